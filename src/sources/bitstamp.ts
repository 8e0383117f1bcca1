import type { Config } from "../config";
import type { Currency } from "../protocol";
import { SourceError, toSourceError } from "./errors";
import { getJson } from "./http";
import { isRecord, parsePrice, quoteClock, requireRecentQuote, type QuoteClock } from "./parse";
import type { PriceSource, Quotes } from "./types";

export const BITSTAMP_CURRENCIES = ["USD", "EUR", "GBP"] as const satisfies readonly Currency[];

export function bitstampUrl(config: Config, currency: Currency): string {
  return `${config.bitstampApiUrl}/api/v2/ticker/btc${currency.toLowerCase()}/`;
}

/** `{"last":"64950","timestamp":"1759312770",…}`; errors come as `{"status":"error","reason":…}`. */
export function parseBitstampTicker(body: unknown, clock: QuoteClock): number {
  if (!isRecord(body)) throw new SourceError("parse", "bitstamp: body is not a JSON object");
  if (body.status === "error") {
    const reason = typeof body.reason === "string" ? body.reason : JSON.stringify(body.reason ?? "unknown");
    throw new SourceError("upstream", `bitstamp: ${reason}`);
  }
  const price = parsePrice(body.last, "bitstamp last");
  requireRecentQuote(body.timestamp, clock, "bitstamp timestamp");
  return price;
}

/**
 * The per-currency answers combined: a currency that failed is absent; when every one failed the
 * first error stands for all, and a rate limit anywhere wins so that the breaker honours it.
 */
export function combineBitstampResults(
  currencies: readonly Currency[],
  results: readonly PromiseSettledResult<number>[],
  signal?: AbortSignal,
): Quotes {
  const quotes: Quotes = {};
  const errors: SourceError[] = [];
  results.forEach((result, i) => {
    const currency = currencies[i];
    if (currency === undefined) return;
    if (result.status === "fulfilled") quotes[currency] = result.value;
    else errors.push(toSourceError(result.reason, signal));
  });
  const rateLimited = errors.find((e) => e.kind === "rate_limited");
  if (rateLimited) throw rateLimited;
  if (Object.keys(quotes).length === 0) {
    throw errors[0] ?? new SourceError("parse", "bitstamp: none of the asked currencies is quoted");
  }
  return quotes;
}

export const bitstamp: PriceSource = {
  name: "bitstamp",
  currencies: BITSTAMP_CURRENCIES,
  // 8,000 requests per 10 minutes per IP is one per 75 ms; one attempt makes three requests,
  // so attempts (retries included) at least 300 ms apart stay within it.
  minIntervalMs: () => 300,
  isEnabled: () => true,
  async fetchQuotes(currencies, ctx) {
    const asked = currencies.filter((c) => (BITSTAMP_CURRENCIES as readonly Currency[]).includes(c));
    const clock = quoteClock(ctx);
    const results = await Promise.allSettled(
      asked.map(async (c) => parseBitstampTicker(await getJson(bitstampUrl(ctx.config, c), ctx), clock)),
    );
    return combineBitstampResults(asked, results, ctx.signal);
  },
};

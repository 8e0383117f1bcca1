import type { Config } from "../config";
import { SUPPORTED_CURRENCIES, type Currency } from "../protocol";
import { SourceError } from "./errors";
import { getJson } from "./http";
import { isRecord, parsePrice, requireRecord, requireSomeQuotes } from "./parse";
import type { PriceSource, Quotes } from "./types";

export function krakenUrl(config: Config, currencies: readonly Currency[]): string {
  const pairs = currencies.map((c) => `XBT${c}`).join(",");
  return `${config.krakenApiUrl}/0/public/Ticker?pair=${pairs}`;
}

/** Kraken answers under its own names: legacy pairs as XXBTZUSD, newer ones as XBTCHF. */
export function krakenResultKeys(currency: Currency): string[] {
  return [`XXBTZ${currency}`, `XBT${currency}`, `XBT/${currency}`];
}

/** Errors arrive with HTTP 200 as a non-empty `error` array; the last trade price is `c[0]`. */
export function parseKrakenTicker(body: unknown, currencies: readonly Currency[]): Quotes {
  if (!isRecord(body)) throw new SourceError("parse", "kraken: body is not a JSON object");
  if (!Array.isArray(body.error)) throw new SourceError("parse", 'kraken: "error" is missing or not an array');
  if (body.error.length > 0) throw krakenError(body.error.map(String));
  const result = requireRecord(body, "result", "kraken");
  const quotes: Quotes = {};
  for (const currency of currencies) {
    const key = krakenResultKeys(currency).find((k) => result[k] !== undefined);
    if (key === undefined) continue;
    const ticker = result[key];
    const lastTrade = isRecord(ticker) && Array.isArray(ticker.c) ? ticker.c[0] : undefined;
    quotes[currency] = parsePrice(lastTrade, `kraken ${key}.c[0]`);
  }
  return requireSomeQuotes(quotes, currencies, "kraken");
}

function krakenError(errors: string[]): SourceError {
  const message = `kraken: ${errors.join("; ")}`;
  const rateLimited = errors.some((e) => /rate limit|too many requests/i.test(e));
  return new SourceError(rateLimited ? "rate_limited" : "upstream", message);
}

export const kraken: PriceSource = {
  name: "kraken",
  currencies: SUPPORTED_CURRENCIES,
  // Kraken's public endpoints allow about one call per second per IP.
  minIntervalMs: () => 1000,
  isEnabled: () => true,
  async fetchQuotes(currencies, ctx) {
    return parseKrakenTicker(await getJson(krakenUrl(ctx.config, currencies), ctx), currencies);
  },
};

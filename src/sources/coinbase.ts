import type { Config } from "../config";
import { SUPPORTED_CURRENCIES, type Currency } from "../protocol";
import { SourceError } from "./errors";
import { getJson } from "./http";
import { isRecord, parsePrice, requireRecord, requireSomeQuotes } from "./parse";
import type { PriceSource, Quotes } from "./types";

/** One call returns every currency. */
export function coinbaseUrl(config: Config): string {
  return `${config.coinbaseApiUrl}/v2/exchange-rates?currency=BTC`;
}

/** `{"data":{"currency":"BTC","rates":{"USD":"104123.45",…}}}`; errors come as `{"errors":[{"id","message"}]}`. */
export function parseCoinbaseRates(body: unknown, currencies: readonly Currency[]): Quotes {
  if (!isRecord(body)) throw new SourceError("parse", "coinbase: body is not a JSON object");
  const apiError = firstApiError(body);
  if (apiError) throw new SourceError("upstream", `coinbase: ${apiError}`);
  const data = requireRecord(body, "data", "coinbase");
  if (data.currency !== undefined && data.currency !== "BTC") {
    throw new SourceError("parse", `coinbase: rates are for ${String(data.currency).slice(0, 10)}, not BTC`);
  }
  const rates = requireRecord(data, "rates", "coinbase");
  const quotes: Quotes = {};
  for (const currency of currencies) {
    if (rates[currency] === undefined) continue;
    quotes[currency] = parsePrice(rates[currency], `coinbase ${currency}`);
  }
  return requireSomeQuotes(quotes, currencies, "coinbase");
}

function firstApiError(body: Record<string, unknown>): string | null {
  if (!Array.isArray(body.errors) || body.errors.length === 0) return null;
  const first: unknown = body.errors[0];
  if (isRecord(first) && typeof first.message === "string") return first.message;
  return "error without a message";
}

export const coinbase: PriceSource = {
  name: "coinbase",
  currencies: SUPPORTED_CURRENCIES,
  // Coinbase's public data API allows 10,000 requests an hour per IP (one per 360 ms).
  minIntervalMs: () => 500,
  isEnabled: () => true,
  async fetchQuotes(currencies, ctx) {
    return parseCoinbaseRates(await getJson(coinbaseUrl(ctx.config), ctx), currencies);
  },
};

import type { Config } from "../config";
import { SUPPORTED_CURRENCIES, type Currency } from "../protocol";
import { SourceError } from "./errors";
import { getJson } from "./http";
import {
  isRecord,
  parsePrice,
  quoteClock,
  requireRecentQuote,
  requireRecord,
  requireSomeQuotes,
  type QuoteClock,
} from "./parse";
import type { PriceSource, Quotes } from "./types";

export function coindeskUrl(config: Config, currencies: readonly Currency[]): string {
  const instruments = currencies.map((c) => `BTC-${c}`).join(",");
  return `${config.coindeskApiUrl}/index/cc/v1/latest/tick?market=cadli&instruments=${instruments}&groups=VALUE`;
}

export function coindeskHeaders(apiKey: string): Record<string, string> {
  return { Authorization: `Apikey ${apiKey}` };
}

/**
 * `{"Data":{"BTC-USD":{"VALUE":96353.9,"VALUE_LAST_UPDATE_TS":…}},"Err":{}}`. A non-empty `Err`
 * next to usable `Data` describes the instruments left out; with no usable `Data` it is the error.
 * An instrument whose last update is too old is left out too; when all are, that is the error.
 */
export function parseCoindeskTick(body: unknown, currencies: readonly Currency[], clock: QuoteClock): Quotes {
  if (!isRecord(body)) throw new SourceError("parse", "coindesk: body is not a JSON object");
  const apiError = errMessage(body.Err);
  const data = body.Data;
  if (apiError && (!isRecord(data) || !currencies.some((c) => data[`BTC-${c}`] !== undefined))) {
    throw new SourceError("upstream", `coindesk: ${apiError}`);
  }
  const instruments = requireRecord(body, "Data", "coindesk");
  const quotes: Quotes = {};
  let stale: SourceError | null = null;
  for (const currency of currencies) {
    const instrument = instruments[`BTC-${currency}`];
    if (instrument === undefined) continue;
    if (!isRecord(instrument)) throw new SourceError("parse", `coindesk: BTC-${currency} is not an object`);
    const price = parsePrice(instrument.VALUE, `coindesk BTC-${currency}.VALUE`);
    try {
      requireRecentQuote(instrument.VALUE_LAST_UPDATE_TS, clock, `coindesk BTC-${currency}`);
    } catch (error) {
      if (!(error instanceof SourceError) || error.kind !== "stale") throw error;
      stale ??= error;
      continue;
    }
    quotes[currency] = price;
  }
  if (stale && Object.keys(quotes).length === 0) throw stale;
  return requireSomeQuotes(quotes, currencies, "coindesk");
}

function errMessage(err: unknown): string | null {
  if (!isRecord(err) || Object.keys(err).length === 0) return null;
  return typeof err.message === "string" ? err.message : JSON.stringify(err).slice(0, 80);
}

export const coindesk: PriceSource = {
  name: "coindesk",
  currencies: SUPPORTED_CURRENCIES,
  // The quota is per key and per plan, so it is configured rather than known here.
  minIntervalMs: (config) => config.coindeskMinIntervalMs,
  isEnabled: (config) => config.coindeskApiKey !== null,
  async fetchQuotes(currencies, ctx) {
    const key = ctx.config.coindeskApiKey;
    if (key === null) throw new SourceError("upstream", "coindesk: COINDESK_API_KEY is not set");
    const body = await getJson(coindeskUrl(ctx.config, currencies), ctx, coindeskHeaders(key));
    return parseCoindeskTick(body, currencies, quoteClock(ctx));
  },
};

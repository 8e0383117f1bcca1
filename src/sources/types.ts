import type { Config } from "../config";
import type { Currency } from "../protocol";

/** BTC price per currency, as one source quoted it. */
export type Quotes = Partial<Record<Currency, number>>;

export interface SourceContext {
  config: Config;
  fetch: typeof fetch;
  /** Aborts when the poll's time budget is spent. */
  signal: AbortSignal;
  nowMs: number;
}

export interface PriceSource {
  readonly name: string;
  /** Currencies this source can quote. */
  readonly currencies: readonly Currency[];
  /** The source is never asked more often than this, whatever POLL_INTERVAL_MS says. */
  minIntervalMs(config: Config): number;
  isEnabled(config: Config): boolean;
  /** Fetches and parses; rejects with a SourceError on anything unusable. */
  fetchQuotes(currencies: readonly Currency[], ctx: SourceContext): Promise<Quotes>;
}

export const USER_AGENT = "btc-pricefeed/1.0 (+https://github.com/; Cloudflare Worker)";

import type { Config } from "../config";
import { SUPPORTED_CURRENCIES, type Currency } from "../protocol";
import { bitstamp } from "./bitstamp";
import { coinbase } from "./coinbase";
import { coindesk } from "./coindesk";
import { kraken } from "./kraken";
import { simulated } from "./simulated";
import type { PriceSource } from "./types";

export const ALL_SOURCES: readonly PriceSource[] = [coindesk, coinbase, kraken, bitstamp, simulated];

export function sourceByName(name: string): PriceSource | undefined {
  return ALL_SOURCES.find((s) => s.name === name);
}

/** The sources PRICE_SOURCES names, in its order, once each; unknown names are ignored, CoinDesk needs its key. */
export function enabledSources(config: Config): PriceSource[] {
  const out: PriceSource[] = [];
  for (const name of config.priceSources) {
    const source = sourceByName(name);
    if (source?.isEnabled(config) && !out.includes(source)) out.push(source);
  }
  return out;
}

/** How many enabled sources quote each currency (0 for none). */
export function quotedBy(config: Config): Record<Currency, number> {
  const sources = enabledSources(config);
  const out = {} as Record<Currency, number>;
  for (const c of SUPPORTED_CURRENCIES) out[c] = sources.filter((s) => s.currencies.includes(c)).length;
  return out;
}

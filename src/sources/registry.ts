import type { Config } from "../config";
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
    if (source && source.isEnabled(config) && !out.includes(source)) out.push(source);
  }
  return out;
}

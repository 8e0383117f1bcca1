import { sameSources, sourcesBehind, type Currency, type Tick } from "../protocol";
import type { Quotes } from "../sources/types";

/**
 * The tick to publish after a poll, or null when no currency's price, nor the sources behind it, changed.
 * Currencies missing from this poll keep their previous price, and the sources it came from.
 * `freshSources` names each fresh currency's sources; a currency it leaves out came from all of `sources`.
 */
export function nextTick(
  previous: Tick | null,
  fresh: Quotes,
  sources: string[],
  seq: number,
  nowMs: number,
  freshSources: Partial<Record<Currency, string[]>> = {},
): Tick | null {
  const all = [...sources].sort();
  const freshFrom = (currency: Currency) => [...(freshSources[currency] ?? all)].sort();
  const changed: Currency[] = [];
  for (const [currency, price] of Object.entries(fresh) as [Currency, number][]) {
    const same =
      previous?.prices[currency] === price && sameSources(sourcesBehind(previous, currency), freshFrom(currency));
    if (!same) changed.push(currency);
  }
  if (changed.length === 0) return null;
  const prices = { ...previous?.prices, ...fresh };
  const currencySources: Partial<Record<Currency, string[]>> = {};
  for (const currency of Object.keys(prices) as Currency[]) {
    const from =
      fresh[currency] !== undefined ? freshFrom(currency) : previous ? sourcesBehind(previous, currency) : all;
    if (!sameSources(from, all)) currencySources[currency] = from;
  }
  return {
    seq,
    tsMs: nowMs,
    prices,
    changed,
    sources: all,
    ...(Object.keys(currencySources).length > 0 ? { currencySources } : {}),
  };
}

export const STALE_AFTER_INTERVALS = 3;

/** The feed is stale when no poll has produced a fresh price for three intervals. */
export function isStale(lastFreshAtMs: number, nowMs: number, intervalMs: number): boolean {
  return nowMs - lastFreshAtMs > STALE_AFTER_INTERVALS * intervalMs;
}

import type { Currency, Tick } from "../protocol";
import type { Quotes } from "../sources/types";

/**
 * The tick to publish after a poll, or null when no currency's price changed.
 * Currencies missing from this poll keep their previous price.
 */
export function nextTick(
  previous: Tick | null,
  fresh: Quotes,
  sources: string[],
  seq: number,
  nowMs: number,
): Tick | null {
  const changed: Currency[] = [];
  for (const [currency, price] of Object.entries(fresh) as [Currency, number][]) {
    if (previous?.prices[currency] !== price) changed.push(currency);
  }
  if (changed.length === 0) return null;
  return {
    seq,
    tsMs: nowMs,
    prices: { ...previous?.prices, ...fresh },
    changed,
    sources: [...sources].sort(),
  };
}

export const STALE_AFTER_INTERVALS = 3;

/** The feed is stale when no poll has produced a fresh price for three intervals. */
export function isStale(lastFreshAtMs: number, nowMs: number, intervalMs: number): boolean {
  return nowMs - lastFreshAtMs > STALE_AFTER_INTERVALS * intervalMs;
}

import { priceChange, SUPPORTED_CURRENCIES, type Currency, type PriceStats, type Tick } from "../protocol";

/**
 * Each currency's figures over a run of ticks' prices, given in seq order: open and the last price
 * are its first and last price in the run, high and low its extremes. A currency without a price in
 * the run has none.
 */
export function statsOf(pricesInSeqOrder: Iterable<Tick["prices"]>): Partial<Record<Currency, PriceStats>> {
  const seen: Partial<Record<Currency, { open: number; high: number; low: number; last: number }>> = {};
  for (const prices of pricesInSeqOrder) {
    for (const currency of SUPPORTED_CURRENCIES) {
      const price = prices[currency];
      if (price === undefined) continue;
      const figures = seen[currency];
      if (!figures) {
        seen[currency] = { open: price, high: price, low: price, last: price };
        continue;
      }
      if (price > figures.high) figures.high = price;
      if (price < figures.low) figures.low = price;
      figures.last = price;
    }
  }
  const stats: Partial<Record<Currency, PriceStats>> = {};
  for (const currency of SUPPORTED_CURRENCIES) {
    const figures = seen[currency];
    if (figures) {
      const { open, high, low, last } = figures;
      stats[currency] = { open, high, low, ...priceChange(open, last) };
    }
  }
  return stats;
}

import type { Candle, HistoryPoint } from "../../src/protocol";

/**
 * Candles as a client would make them from /api/history's points, one bucket at a time in JavaScript:
 * the model the server's candles must equal.
 */
export function candlesFromPoints(points: readonly HistoryPoint[], bucketS: number): Candle[] {
  const byTime = new Map<number, Candle>();
  for (const { ts, price } of [...points].sort((a, b) => a.seq - b.seq)) {
    const time = ts - (ts % bucketS);
    const candle = byTime.get(time);
    if (!candle) {
      byTime.set(time, { time, open: price, high: price, low: price, close: price, ticks: 1 });
      continue;
    }
    candle.high = Math.max(candle.high, price);
    candle.low = Math.min(candle.low, price);
    candle.close = price;
    candle.ticks++;
  }
  return [...byTime.values()].sort((a, b) => a.time - b.time);
}

/** One currency's first, highest, lowest and last price among the points, by seq; null for none. */
export function figuresOfPoints(points: readonly HistoryPoint[]) {
  const inOrder = [...points].sort((a, b) => a.seq - b.seq).map((p) => p.price);
  if (inOrder.length === 0) return null;
  return { open: inOrder[0]!, high: Math.max(...inOrder), low: Math.min(...inOrder), last: inOrder.at(-1)! };
}

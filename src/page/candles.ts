/**
 * The 24-hour chart's candles: fetched from GET /api/candles, then kept current by the live prices
 * (the last bucket's high, low and close move; a price in a later bucket opens a new candle).
 */
import { CANDLE_INTERVAL_S, type Candle, type CandleInterval } from "../protocol";

/** 96 candles a day: wide enough to read on a phone, fine enough to show the day's shape. */
export const DAY_INTERVAL: CandleInterval = "15m";
export const DAY_INTERVAL_MS = CANDLE_INTERVAL_S[DAY_INTERVAL] * 1000;
export const DAY_WINDOW_MS = 86_400_000;

/** The start (Unix seconds) of the bucket of `intervalMs` that `tMs` falls in. */
export function bucketStart(tMs: number, intervalMs: number): number {
  return (Math.floor(tMs / intervalMs) * intervalMs) / 1000;
}

/**
 * The 24-hour chart's window at `nowMs`: the 96 whole buckets up to the end of the current one, so
 * that the current candle is drawn whole and the first one does not hang over the edge.
 */
export function dayWindow(nowMs: number, intervalMs = DAY_INTERVAL_MS): [number, number] {
  const end = bucketStart(nowMs, intervalMs) * 1000 + intervalMs;
  return [end - DAY_WINDOW_MS, end];
}

/**
 * One live price merged into time-ordered candles. Prices arrive in seq order, so a price for the
 * last bucket is its latest (the close); one for a later bucket opens a candle. One for an earlier
 * bucket is already in the fetched candles (they were read after it) and changes nothing.
 */
export function mergePrice(candles: readonly Candle[], tMs: number, price: number, intervalMs: number): Candle[] {
  const time = bucketStart(tMs, intervalMs);
  const last = candles[candles.length - 1];
  if (!last || time > last.time)
    return [...candles, { time, open: price, high: price, low: price, close: price, ticks: 1 }];
  if (time < last.time) return candles as Candle[];
  const merged: Candle = {
    time,
    open: last.open,
    high: Math.max(last.high, price),
    low: Math.min(last.low, price),
    close: price,
    ticks: last.ticks + 1,
  };
  return [...candles.slice(0, -1), merged];
}

/**
 * Fetched candles with the live prices the page holds (seq order) folded in: those in the last
 * fetched bucket or later. A price already counted in that bucket moves neither its high, low nor
 * close (it was the latest, or a later one follows), only its tick count, which the page does not show.
 */
export function withLivePrices(
  fetched: readonly Candle[],
  live: readonly { t: number; price: number }[],
  intervalMs: number,
): Candle[] {
  const from = fetched.length > 0 ? fetched[fetched.length - 1]!.time * 1000 : -Infinity;
  let out = [...fetched];
  for (const p of live) if (p.t >= from) out = mergePrice(out, p.t, p.price, intervalMs);
  return out;
}

/** Drops the candles whose bucket ended before `fromMs`. */
export function trimCandles(candles: readonly Candle[], fromMs: number, intervalMs: number): Candle[] {
  let start = 0;
  while (start < candles.length && candles[start]!.time * 1000 + intervalMs <= fromMs) start++;
  return start === 0 ? (candles as Candle[]) : candles.slice(start);
}

export interface CandleSummary {
  open: number;
  close: number;
  high: number;
  low: number;
  change: number;
}

/** The span's first open, last close, extremes and change; null without candles. */
export function summarizeCandles(candles: readonly Candle[]): CandleSummary | null {
  const first = candles[0];
  const last = candles[candles.length - 1];
  if (!first || !last) return null;
  let high = -Infinity;
  let low = Infinity;
  for (const c of candles) {
    if (c.high > high) high = c.high;
    if (c.low < low) low = c.low;
  }
  return { open: first.open, close: last.close, high, low, change: last.close - first.open };
}

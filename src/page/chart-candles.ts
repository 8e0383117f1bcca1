/**
 * Pure geometry of the 24-hour chart's candlesticks: the price axis over the candles' extremes and
 * one body and wick per candle. chart.ts turns these numbers into SVG elements.
 */
import type { Candle } from "../protocol";
import { priceDomain, type Scale } from "./chart-scale";

export interface CandleShape {
  /** The body's left edge and width. */
  x: number;
  width: number;
  /** The wick's x (the bucket's middle). */
  cx: number;
  /** The body, from the higher of open and close down (at least a pixel tall, so a flat candle shows). */
  bodyTop: number;
  bodyHeight: number;
  /** The wick, from the high down to the low. */
  wickTop: number;
  wickBottom: number;
  /** Close above open, below it, or the same: drawn hollow, filled, or as a bar (not by colour alone). */
  dir: "up" | "down" | "flat";
}

/** The price axis of candles: their lowest low to highest high, padded as the tick chart's is. */
export function candleDomain(candles: readonly Candle[]): [number, number] | null {
  if (candles.length === 0) return null;
  const extremes = candles.flatMap((c) => [
    { seq: 0, t: c.time, price: c.low, replayed: false },
    { seq: 0, t: c.time, price: c.high, replayed: false },
  ]);
  return priceDomain(extremes);
}

/** The middle of a candle's bucket, in milliseconds: where it is drawn and inspected. */
export function candleMidMs(candle: Candle, intervalMs: number): number {
  return candle.time * 1000 + intervalMs / 2;
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * One shape per candle, its body 70 % of the bucket's width (at least a pixel, at most 14 px) and
 * clipped to start no further left than `minX` (the bucket that began before the window).
 */
export function candleShapes(
  candles: readonly Candle[],
  x: Scale,
  y: Scale,
  intervalMs: number,
  minX: number,
): CandleShape[] {
  const slot = Math.abs(x(intervalMs) - x(0));
  const width = Math.min(14, Math.max(1, slot * 0.7));
  return candles.map((c) => {
    const cx = Math.max(minX + width / 2, x(candleMidMs(c, intervalMs)));
    const top = y(Math.max(c.open, c.close));
    const bottom = y(Math.min(c.open, c.close));
    return {
      x: round(cx - width / 2),
      width: round(width),
      cx: round(cx),
      bodyTop: round(top),
      bodyHeight: round(Math.max(1, bottom - top)),
      wickTop: round(y(c.high)),
      wickBottom: round(y(c.low)),
      dir: c.close > c.open ? "up" : c.close < c.open ? "down" : "flat",
    };
  });
}

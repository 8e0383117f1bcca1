import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bucketStart,
  dayWindow,
  mergePrice,
  summarizeCandles,
  trimCandles,
  withLivePrices,
} from "../../src/page/candles";
import { candleDomain, candleShapes } from "../../src/page/chart-candles";
import { linearScale } from "../../src/page/chart-scale";
import type { Candle } from "../../src/protocol";

const MIN = 60_000;
const k = (time: number, open: number, high: number, low: number, close: number, ticks = 1): Candle => ({
  time,
  open,
  high,
  low,
  close,
  ticks,
});

/** What the server computes: each bucket's first, extremes and last price. */
function candlesOf(ticks: readonly { t: number; price: number }[], intervalMs: number): Candle[] {
  const out: Candle[] = [];
  for (const { t, price } of ticks) {
    const time = bucketStart(t, intervalMs);
    const last = out[out.length - 1];
    if (last?.time === time) {
      Object.assign(last, {
        high: Math.max(last.high, price),
        low: Math.min(last.low, price),
        close: price,
        ticks: last.ticks + 1,
      });
    } else out.push(k(time, price, price, price, price));
  }
  return out;
}

/** Ticks at increasing times, a few to a bucket and some buckets without any. */
const tickList = fc
  .array(fc.record({ gap: fc.integer({ min: 1, max: 7 * MIN }), price: fc.integer({ min: 1, max: 1000 }) }), {
    minLength: 1,
    maxLength: 60,
  })
  .map((steps) => {
    let t = 1_700_000_000_000;
    return steps.map((s) => {
      t += s.gap;
      return { t, price: s.price };
    });
  });

describe("page: candles", () => {
  it("a live price moves the last candle, opens a new bucket, and leaves an older bucket alone", () => {
    const start = [k(0, 10, 12, 9, 11, 4), k(900, 11, 11, 11, 11, 1)];
    expect(mergePrice(start, 950_000, 14, 15 * MIN)).toEqual([start[0], k(900, 11, 14, 11, 14, 2)]);
    expect(mergePrice(start, 1_000_000, 8, 15 * MIN)).toEqual([start[0], k(900, 11, 11, 8, 8, 2)]);
    expect(mergePrice(start, 1_800_000, 13, 15 * MIN)).toEqual([...start, k(1800, 13, 13, 13, 13)]);
    expect(mergePrice(start, 100_000, 99, 15 * MIN)).toBe(start);
    expect(mergePrice([], 1_000_000, 7, 15 * MIN)).toEqual([k(900, 7, 7, 7, 7)]);
  });

  it("folding prices one by one gives the server's candles", () => {
    fc.assert(
      fc.property(tickList, (ticks) => {
        const folded = ticks.reduce<Candle[]>((cs, p) => mergePrice(cs, p.t, p.price, 15 * MIN), []);
        expect(folded).toEqual(candlesOf(ticks, 15 * MIN));
      }),
    );
  });

  it("fetched candles with the page's live prices (overlapping the last bucket) give the candles of every tick", () => {
    fc.assert(
      fc.property(tickList, fc.nat(), fc.nat(), (ticks, a, b) => {
        // The server answered after tick `cut`; the page holds ticks from `overlap` on (the last hour).
        const cut = a % ticks.length;
        const overlap = Math.min(cut, b % (cut + 1));
        const fetched = candlesOf(ticks.slice(0, cut + 1), 15 * MIN);
        const merged = withLivePrices(fetched, ticks.slice(overlap), 15 * MIN);
        const strip = (cs: Candle[]) => cs.map(({ ticks: _, ...rest }) => rest);
        // Tick counts may count an overlapping price twice; the page does not show them.
        expect(strip(merged)).toEqual(strip(candlesOf(ticks, 15 * MIN)));
      }),
    );
    expect(withLivePrices([], [{ t: 60_000, price: 5 }], MIN)).toEqual([k(60, 5, 5, 5, 5)]);
  });

  it("drops candles whose bucket ended before the window, keeps the one it starts in", () => {
    const list = [k(0, 1, 1, 1, 1), k(900, 2, 2, 2, 2), k(1800, 3, 3, 3, 3)];
    expect(trimCandles(list, 900_000, 15 * MIN)).toEqual(list.slice(1));
    expect(trimCandles(list, 1_000_000, 15 * MIN)).toEqual(list.slice(1));
    expect(trimCandles(list, 0, 15 * MIN)).toBe(list);
    expect(trimCandles(list, 3_000_000, 15 * MIN)).toEqual([]);
  });

  it("the day's window is the 96 whole buckets up to the end of the current one", () => {
    const t = Date.UTC(2026, 11, 6, 10, 51, 38);
    expect(dayWindow(t)).toEqual([Date.UTC(2026, 11, 5, 11, 0), Date.UTC(2026, 11, 6, 11, 0)]);
    expect(dayWindow(Date.UTC(2026, 11, 6, 11, 0))).toEqual([
      Date.UTC(2026, 11, 5, 11, 15),
      Date.UTC(2026, 11, 6, 11, 15),
    ]);
  });

  it("summarizes a span: first open, last close, extremes", () => {
    expect(summarizeCandles([])).toBeNull();
    expect(summarizeCandles([k(0, 10, 15, 9, 12), k(900, 12, 13, 7, 11)])).toEqual({
      open: 10,
      close: 11,
      high: 15,
      low: 7,
      change: 1,
    });
  });

  it("draws a body from open to close and a wick from high to low, hollow up, filled down, a bar when flat", () => {
    const list = [k(0, 100, 120, 90, 110), k(900, 110, 115, 95, 100), k(1800, 100, 100, 100, 100)];
    expect(candleDomain([])).toBeNull();
    const [lo, hi] = candleDomain(list)!;
    expect(lo).toBeLessThan(90);
    expect(hi).toBeGreaterThan(120);
    // 1 px a second, price 80..130 onto 250..0 (5 px per unit, up is smaller y).
    const x = linearScale([0, 2_700_000], [0, 2700]);
    const y = linearScale([80, 130], [250, 0]);
    const [up, down, flat] = candleShapes(list, x, y, 15 * MIN, 0);
    expect(up).toEqual({
      x: 443,
      width: 14,
      cx: 450,
      bodyTop: 100,
      bodyHeight: 50,
      wickTop: 50,
      wickBottom: 200,
      dir: "up",
    });
    expect(down).toMatchObject({ cx: 1350, bodyTop: 100, bodyHeight: 50, wickTop: 75, wickBottom: 175, dir: "down" });
    expect(flat).toMatchObject({ bodyTop: 150, bodyHeight: 1, dir: "flat" });
    // Narrow slots: 70 % of the slot, at least a pixel; never left of the plot.
    const narrow = linearScale([0, 2_700_000], [0, 27]);
    expect(candleShapes(list, narrow, y, 15 * MIN, 0)[0]).toMatchObject({ width: 6.3, x: 1.4, cx: 4.5 });
    expect(candleShapes(list, x, y, 15 * MIN, 600)[0]!.x).toBe(600);
  });
});

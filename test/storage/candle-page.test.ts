import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Candle,
  type Currency,
  type HistoryPoint,
  priceChange,
  STATS_WINDOW_S,
  SUPPORTED_CURRENCIES,
  type Tick,
} from "../../src/protocol";
import { candlesFromPoints, figuresOfPoints } from "../support/candles";

import { inTable } from "../support/table";

/** The points /api/history would give for the ticks in the window (the model's input). */
const pointsOf = (ticks: readonly Tick[], currency: Currency, fromMs: number, toMs: number): HistoryPoint[] =>
  ticks
    .filter((t) => t.tsMs >= fromMs && t.tsMs <= toMs && t.prices[currency] !== undefined)
    .map((t) => ({
      seq: t.seq,
      ts: Math.floor(t.tsMs / 1000),
      time: new Date(t.tsMs).toISOString(),
      price: t.prices[currency]!,
    }));

const price = fc.oneof(
  fc.double({ min: 0.01, max: 1e7, noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: 1, max: 200_000 }).map((cents) => cents / 100),
  fc.constantFrom(0.1 + 0.2, 97_123.45, 1e21, 5e-7),
);

const START_MS = Date.UTC(2026, 10, 24, 19, 59, 58, 999);

/** Ticks at random gaps (down to a millisecond, up to hours), each with some currencies only. */
const ticksArb = (maxGapMs: number) =>
  fc
    .array(
      fc.record({
        gapMs: fc.oneof(fc.integer({ min: 1, max: 3_000 }), fc.integer({ min: 1, max: maxGapMs })),
        prices: fc.dictionary(fc.constantFrom(...SUPPORTED_CURRENCIES), price, { minKeys: 1 }),
      }),
      { maxLength: 50 },
    )
    .map((rows) => {
      let tsMs = START_MS;
      return rows.map((r, i): Tick => {
        tsMs += r.gapMs;
        return { seq: i + 1, tsMs, prices: r.prices, changed: Object.keys(r.prices) as Currency[], sources: ["test"] };
      });
    });

const BUCKETS = [60, 300, 900, 3600];

describe("TickTable.candlePage", () => {
  it("gives the candles of the history points, for any ticks, bucket, window and limit", async () => {
    await fc.assert(
      fc.asyncProperty(
        ticksArb(20 * 60_000),
        fc.constantFrom(...SUPPORTED_CURRENCIES),
        fc.constantFrom(...BUCKETS),
        fc.integer({ min: 0, max: 3 * 3_600_000 }),
        fc.integer({ min: 0, max: 6 * 3_600_000 }),
        fc.integer({ min: 1, max: 60 }),
        async (ticks, currency, bucketS, fromOffset, span, limit) => {
          const fromMs = START_MS + fromOffset - 600_000;
          const toMs = fromMs + span;
          const page = await inTable("candle-page", (table) => {
            for (const t of ticks) table.insert(t);
            return table.candlePage(currency, bucketS, fromMs, toMs, limit);
          });
          const model = candlesFromPoints(pointsOf(ticks, currency, fromMs, toMs), bucketS);
          const wanted = model.slice(0, limit);
          expect(JSON.parse(page.candles)).toEqual(wanted);
          expect(page).toMatchObject({
            count: wanted.length,
            lastTime: wanted.at(-1)?.time ?? null,
            more: model.length > limit,
          });
        },
      ),
      { numRuns: 80 },
    );
  });

  it("pages by bucket: each page goes on with the bucket after the last one, every candle once and whole", async () => {
    // Four ticks a bucket (seconds 0, 15, 30, 45 of each minute), a minute without any every fifth minute.
    const ticks: Tick[] = [];
    const minuteMs = Date.UTC(2026, 10, 24, 20);
    for (let i = 0; i < 40; i++) {
      if (Math.floor(i / 4) % 5 === 4) continue;
      const price = 100 + ((i * 7) % 11);
      ticks.push({ seq: i + 1, tsMs: minuteMs + i * 15_000, prices: { USD: price }, changed: [], sources: [] });
    }
    const { walked, whole } = await inTable("candle-walk", (table) => {
      for (const t of ticks) table.insert(t);
      const walked: Candle[] = [];
      let fromMs = 0;
      for (let pages = 0; pages < 10; pages++) {
        const page = table.candlePage("USD", 60, fromMs, Number.MAX_SAFE_INTEGER, 3);
        walked.push(...(JSON.parse(page.candles) as Candle[]));
        if (!page.more) break;
        fromMs = (page.lastTime! + 60) * 1000;
      }
      return { walked, whole: JSON.parse(table.candlePage("USD", 60, 0, Number.MAX_SAFE_INTEGER, 100).candles) };
    });
    expect(walked).toEqual(whole);
    expect(whole).toEqual(candlesFromPoints(pointsOf(ticks, "USD", 0, Number.MAX_SAFE_INTEGER), 60));
    expect(whole.map((c: Candle) => c.ticks)).toEqual([4, 4, 4, 4, 4, 4, 4, 4]);
  });

  it("answers an empty window with an empty page", async () => {
    const page = await inTable("candle-empty", (table) => table.candlePage("USD", 60, 0, 10, 5));
    expect(page).toEqual({ candles: "[]", count: 0, lastTime: null, more: false });
  });
});

describe("TickTable.dayStats", () => {
  it("gives each currency's figures over the 24 hours up to the latest tick's second, for any ticks", async () => {
    await fc.assert(
      fc.asyncProperty(ticksArb(6 * 3_600_000), async (ticks) => {
        const stats = await inTable("day-stats", (table) => {
          for (const t of ticks) table.insert(t);
          return table.dayStats();
        });
        const latest = ticks.at(-1);
        const lastS = latest ? Math.floor(latest.tsMs / 1000) : 0;
        const expected: Record<string, unknown> = {};
        for (const currency of SUPPORTED_CURRENCIES) {
          const figures = figuresOfPoints(
            pointsOf(ticks, currency, (lastS - STATS_WINDOW_S) * 1000, lastS * 1000 + 999),
          );
          if (!latest || !figures) continue;
          const { open, high, low, last } = figures;
          expected[currency] = { open, high, low, ...priceChange(open, last) };
        }
        expect(stats).toEqual(expected);
      }),
      { numRuns: 80 },
    );
  });

  it("counts a tick at the window's first second and not one a millisecond before it", async () => {
    const lastMs = Date.UTC(2026, 10, 25, 12, 0, 0, 700);
    const firstInMs = lastMs - 700 - STATS_WINDOW_S * 1000;
    const tick = (seq: number, tsMs: number, USD: number): Tick => ({
      seq,
      tsMs,
      prices: { USD },
      changed: ["USD"],
      sources: [],
    });
    const stats = await inTable("day-stats-edge", (table) => {
      for (const t of [tick(1, firstInMs - 1, 1), tick(2, firstInMs, 50), tick(3, lastMs, 60)]) table.insert(t);
      return table.dayStats();
    });
    expect(stats).toEqual({ USD: { open: 50, high: 60, low: 50, change: 10, change_pct: 20 } });
  });

  it("follows the table: a new tick, old ticks dropped and a cleared table each change the answer", async () => {
    const tick = (seq: number, minutes: number, USD: number): Tick => ({
      seq,
      tsMs: START_MS + minutes * 60_000,
      prices: { USD },
      changed: ["USD"],
      sources: [],
    });
    const answers = await inTable("day-stats-kept", (table) => {
      table.insert(tick(1, 0, 100));
      table.insert(tick(2, 1, 110));
      const first = table.dayStats();
      const again = table.dayStats();
      table.insert(tick(3, 2, 90));
      const afterInsert = table.dayStats();
      table.deleteOlderThan(START_MS + 30_000);
      const afterDelete = table.dayStats();
      table.clear();
      return { first, again, afterInsert, afterDelete, afterClear: table.dayStats() };
    });
    expect(answers.first).toEqual({ USD: { open: 100, high: 110, low: 100, change: 10, change_pct: 10 } });
    expect(answers.again).toBe(answers.first); // kept, not computed again
    expect(answers.afterInsert).toEqual({ USD: { open: 100, high: 110, low: 90, change: -10, change_pct: -10 } });
    expect(answers.afterDelete).toEqual({ USD: { open: 110, high: 110, low: 90, change: -20, change_pct: -18.18 } });
    expect(answers.afterClear).toEqual({});
  });
});

import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Currency, type PriceBody, type PriceStats, STATS_WINDOW_S } from "../../src/protocol";
import { freshHost, getFrom, historyPoints, hubReads, testClock } from "../support/api";
import { figuresOfPoints } from "../support/candles";
import { publishTick, settledHub } from "../support/hub";

beforeAll(async () => {
  await settledHub(); // its first poll done on the real clock: its next is an hour of real time away
});
beforeEach(() => testClock.start());
afterEach(() => testClock.stop());

const HOUR_MS = 3_600_000;

async function priceBody(base: string, currencies: string): Promise<PriceBody> {
  const response = await getFrom(base, `/api/price?currencies=${currencies}`);
  if (response.status !== 200) throw new Error(`${currencies}: ${response.status} ${await response.text()}`);
  return (await response.json()) as PriceBody;
}

/**
 * Checks one currency's figures against the points /api/history gives for the 24 hours up to the
 * body's tick, computed here: open, high and low are points' prices, the change is counted in cents.
 */
async function expectFiguresOfHistory(base: string, body: PriceBody, currency: Currency): Promise<PriceStats> {
  const points = await historyPoints(base, `currency=${currency}&from=${body.ts - STATS_WINDOW_S}&to=${body.ts}`);
  const figures = figuresOfPoints(points);
  if (!figures) throw new Error(`no ${currency} points`);
  const stats = body.stats_24h[currency]!;
  const cents = Math.round(figures.last * 100) - Math.round(figures.open * 100);
  expect(stats).toEqual({
    open: figures.open,
    high: figures.high,
    low: figures.low,
    change: cents / 100,
    change_pct: expect.any(Number),
  });
  const pct = (cents / Math.round(figures.open * 100)) * 100;
  expect(Math.abs(stats.change_pct - pct)).toBeLessThanOrEqual(0.005);
  expect(Number(stats.change_pct.toFixed(2))).toBe(stats.change_pct);
  return stats;
}

describe("stats_24h of GET /api/price", () => {
  let startMs = 0;
  let latestMs = 0;

  beforeAll(async () => {
    testClock.start();
    startMs = testClock.freshHour();
    // A day and an hour of ticks: the first two fall out of the last one's 24 hours (the very first
    // is a price no later one comes near), EUR starts at hour 5, GBP never comes.
    latestMs = startMs + 25 * HOUR_MS + 30_250;
    const run: [number, Partial<Record<Currency, number>>][] = [
      [startMs, { USD: 1 }],
      [startMs + HOUR_MS + 29_999, { USD: 99_999.99 }],
      [startMs + HOUR_MS + 40_000, { USD: 90_000.1 }],
      [startMs + 2 * HOUR_MS, { USD: 95_000.55 }],
      [startMs + 5 * HOUR_MS, { USD: 89_000.01, EUR: 80_000 }],
      [startMs + 20 * HOUR_MS, { USD: 91_000, EUR: 85_000.99 }],
      [startMs + 24 * HOUR_MS, { USD: 92_000.2, EUR: 79_999.5 }],
      [latestMs, { USD: 90_123.45, EUR: 81_000 }],
    ];
    for (const [atMs, prices] of run) {
      testClock.set(atMs);
      await publishTick(prices);
    }
    testClock.set(latestMs + 2_000);
    testClock.stop();
  });

  it("gives each asked currency's figures over the 24 hours up to the latest tick, those of /api/history", async () => {
    const base = freshHost();
    const body = await priceBody(base, "USD,EUR,GBP");
    expect(body.ts).toBe(Math.floor(latestMs / 1000));
    expect(Object.keys(body.stats_24h)).toEqual(["USD", "EUR"]);
    const usd = await expectFiguresOfHistory(base, body, "USD");
    const eur = await expectFiguresOfHistory(base, body, "EUR");
    // What the run above makes of them, by hand: USD opens with the first tick inside the window,
    // EUR with its first tick at all.
    expect(usd).toEqual({ open: 90_000.1, high: 95_000.55, low: 89_000.01, change: 123.35, change_pct: 0.14 });
    expect(eur).toEqual({ open: 80_000, high: 85_000.99, low: 79_999.5, change: 1000, change_pct: 1.25 });
  });

  it("answers every currency set from one hub call, each with its own currencies' figures", async () => {
    const base = freshHost();
    const before = (await hubReads()).price;
    const both = await priceBody(base, "eur,usd");
    const usd = await priceBody(base, "USD");
    const eur = await priceBody(base, "EUR,GBP");
    expect((await hubReads()).price - before).toBe(1);
    expect(Object.keys(both.stats_24h)).toEqual(["USD", "EUR"]);
    expect(usd.stats_24h).toEqual({ USD: both.stats_24h.USD });
    expect(eur.stats_24h).toEqual({ EUR: both.stats_24h.EUR });
  });

  it("moves with the next tick: the window slides and the new price closes it", async () => {
    testClock.set(startMs + 26 * HOUR_MS + 1_000);
    await publishTick({ USD: 88_000.8, EUR: 77_000 });
    const base = freshHost();
    const body = await priceBody(base, "USD,EUR");
    // The 2:00 high has gone out of the window.
    expect(await expectFiguresOfHistory(base, body, "USD")).toMatchObject({ open: 89_000.01, high: 92_000.2 });
    await expectFiguresOfHistory(base, body, "EUR");
  });
});

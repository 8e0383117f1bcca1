import fc from "fast-check";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CANDLE_INTERVAL_S, type CandleInterval, type CandlesBody, type Currency, type Tick } from "../../src/protocol";
import { freshHost, getFrom, historyPoints, hubReads, testClock } from "../support/api";
import { candlesFromPoints } from "../support/candles";
import { publishTick, settledHub } from "../support/hub";

const INTERVALS = Object.keys(CANDLE_INTERVAL_S) as CandleInterval[];

beforeAll(async () => {
  await settledHub(); // its first poll done on the real clock: its next is an hour of real time away
});
beforeEach(() => testClock.start());
afterEach(() => testClock.stop());

/** Publishes a tick through the hub at `atMs` on the test clock. */
async function publishAt(atMs: number, prices: Partial<Record<Currency, number>>): Promise<Tick> {
  testClock.set(atMs);
  return publishTick(prices);
}

async function candlesBody(base: string, query: string): Promise<CandlesBody> {
  const response = await getFrom(base, `/api/candles?${query}`);
  if (response.status !== 200) throw new Error(`${query}: ${response.status} ${await response.text()}`);
  return (await response.json()) as CandlesBody;
}

/** The candles /api/history's points make for the same window, bucket by bucket in the test. */
async function candlesOfHistory(base: string, currency: Currency, interval: CandleInterval, window: string) {
  return candlesFromPoints(await historyPoints(base, `currency=${currency}&${window}`), CANDLE_INTERVAL_S[interval]);
}

describe("GET /api/candles", () => {
  // Seconds after the test's hour: ticks on both sides of minute, 5-, 15-minute and hour edges, minutes
  // without a tick, and EUR only from minute 16 (the hub's ticks carry no EUR before it).
  const RUN: [number, Partial<Record<Currency, number>>][] = [
    [0, { USD: 100 }],
    [59.999, { USD: 103 }],
    [60, { USD: 101 }],
    [61.5, { USD: 99 }],
    [62, { USD: 104 }],
    [420.5, { USD: 102 }],
    [899.999, { USD: 98 }],
    [900, { USD: 97 }],
    [960, { USD: 96, EUR: 90 }],
    [1799.999, { USD: 99, EUR: 91 }],
    [1800, { USD: 100, EUR: 89 }],
    [1800.001, { USD: 101, EUR: 92 }],
    [3599.999, { USD: 102, EUR: 88 }],
    [3600, { USD: 95, EUR: 93 }],
    [3660, { USD: 105, EUR: 94 }],
    [7500, { USD: 103, EUR: 90 }],
  ];
  let hourS = 0;
  let window = "";

  beforeAll(async () => {
    testClock.start();
    const hourMs = testClock.freshHour();
    for (const [s, prices] of RUN) await publishAt(hourMs + s * 1000, prices);
    testClock.set(hourMs + (2 * 3600 + 600) * 1000); // 2:10, after the 2:05 tick
    testClock.stop();
    hourS = hourMs / 1000;
    window = `from=${hourS}&to=${hourS + 7559}`; // to the end of the 2:05 minute
  });

  it("gives exactly the candles of /api/history's points, in every interval and currency, gaps left out", async () => {
    const base = freshHost();
    for (const interval of INTERVALS) {
      for (const currency of ["USD", "EUR", "GBP"] as const) {
        const body = await candlesBody(base, `currency=${currency}&interval=${interval}&${window}`);
        expect(body).toEqual({
          currency,
          interval,
          candles: await candlesOfHistory(base, currency, interval, window),
          next: null,
        });
      }
    }
    // The model is not empty-handed: these are the minutes with a USD tick, and the ticks in each.
    const minutes = (await candlesBody(base, `currency=USD&interval=1m&${window}`)).candles;
    expect(minutes.map((c) => [c.time - hourS, c.ticks])).toEqual([
      [0, 2],
      [60, 3],
      [420, 1],
      [840, 1],
      [900, 1],
      [960, 1],
      [1740, 1],
      [1800, 2],
      [3540, 1],
      [3600, 1],
      [3660, 1],
      [7500, 1],
    ]);
    expect(minutes[1]).toMatchObject({ open: 101, high: 104, low: 99, close: 104 });
    const eur = (await candlesBody(base, `currency=EUR&interval=15m&${window}`)).candles;
    expect(eur.map((c) => c.time - hourS)).toEqual([900, 1800, 2700, 3600, 7200]);
  });

  it("widens a window that starts or ends inside a bucket to the whole bucket", async () => {
    const base = freshHost();
    const inside = `from=${hourS + 61}&to=${hourS + 3600 + 1}`;
    const body = await candlesBody(base, `currency=USD&interval=15m&${inside}`);
    const whole = `from=${hourS}&to=${hourS + 3600 + 899}`;
    expect(body.candles).toEqual(await candlesOfHistory(base, "USD", "15m", whole));
    expect(body.candles.map((c) => c.time - hourS)).toEqual([0, 900, 1800, 2700, 3600]);
    expect(body.candles[0]).toMatchObject({ open: 100, high: 104, low: 98, close: 98, ticks: 7 });
  });

  it("pages by bucket: `next` goes on after the last candle, pages of whole candles, one hub call each", async () => {
    const base = freshHost();
    const whole = (await candlesBody(base, `currency=USD&interval=1m&${window}`)).candles;
    const walk = async () => {
      const before = (await hubReads()).candles;
      const seen = [];
      const pages: string[] = [];
      let path: string | null = `/api/candles?currency=USD&interval=1m&${window}&limit=5`;
      while (path !== null && pages.length < 10) {
        pages.push(path);
        const body = (await (await getFrom(base, path)).json()) as CandlesBody;
        expect(body.candles.length).toBeLessThanOrEqual(5);
        seen.push(...body.candles);
        path = body.next;
      }
      return { seen, pages, hubCalls: (await hubReads()).candles - before };
    };
    const first = await walk();
    expect(first.seen).toEqual(whole);
    expect(first.pages).toEqual([
      `/api/candles?currency=USD&interval=1m&${window}&limit=5`,
      `/api/candles?currency=USD&interval=1m&${window}&limit=5&after=${whole[4]!.time}`,
      `/api/candles?currency=USD&interval=1m&${window}&limit=5&after=${whole[9]!.time}`,
    ]);
    expect(first.hubCalls).toBe(3);
    // The same walk again is answered at the edge.
    const again = await walk();
    expect(again.seen).toEqual(whole);
    expect(again.hubCalls).toBe(0);
  });

  it("asks the hub once for every spelling of one question, and revalidates with its ETag", async () => {
    const base = freshHost();
    const before = (await hubReads()).candles;
    // The 5-minute buckets from 0:00 to 2:05 (the clock says 2:10), however they are asked for.
    const to = hourS + 7799;
    const spellings = [
      `currency=EUR&interval=5m&from=${hourS}&to=${to}`,
      `currency=eur&interval=5m&from=${hourS}&to=${to}&junk=1`,
      `to=${to}&interval=5m&currency=EUR&from=${hourS}&limit=1000`,
      `currency=EUR&interval=5m&from=${hourS + 299}&to=${hourS + 7500}`,
    ];
    const bodies = [];
    for (const query of spellings) bodies.push(await (await getFrom(base, `/api/candles?${query}`)).text());
    expect(new Set(bodies).size).toBe(1);
    expect((await hubReads()).candles - before).toBe(1);
    const first = await getFrom(base, `/api/candles?${spellings[0]}`);
    const etag = first.headers.get("etag")!;
    expect(first.headers.get("cache-control")).toMatch(/^public, max-age=\d+$/);
    await first.arrayBuffer();
    const revalidated = await getFrom(base, `/api/candles?${spellings[1]}`, { "If-None-Match": etag });
    expect(revalidated.status).toBe(304);
    expect((await hubReads()).candles - before).toBe(1);
  });

  it("reaches now without `to`, and by default covers the last 60 buckets", async () => {
    const base = freshHost();
    const body = await candlesBody(base, "currency=USD&interval=1m");
    // 60 minutes back from 2:10 is 1:11: the ticks of 1:00 and 1:01 are out of it.
    expect(body.candles).toEqual(await candlesOfHistory(base, "USD", "1m", `from=${hourS + 3600 + 660}`));
    expect(body.candles.map((c) => c.time - hourS)).toEqual([7500]);
    const hourly = await candlesBody(base, `currency=USD&interval=1h&from=${hourS}`);
    expect(hourly.candles).toEqual(await candlesOfHistory(base, "USD", "1h", `from=${hourS}`));
    expect(hourly.candles.map((c) => c.ticks)).toEqual([13, 2, 1]);
  });

  it("answers 400 with an error code for bad parameters, before asking the hub", async () => {
    const base = freshHost();
    const before = (await hubReads()).candles;
    for (const [query, code] of [
      ["interval=2m", "invalid_interval"],
      ["interval=1H", "invalid_interval"],
      ["interval=1m&interval=1h", "invalid_parameter"],
      ["currency=DOGE", "unsupported_currency"],
      ["currency=USD,EUR", "invalid_currencies"],
      ["limit=0", "invalid_parameter"],
      ["limit=2001", "invalid_parameter"],
      ["after=x", "invalid_parameter"],
      [`from=${hourS + 600}&to=${hourS}`, "invalid_parameter"],
      [`interval=1h&from=${hourS - 86_400 - 3600}&to=${hourS}`, "invalid_parameter"],
    ]) {
      const response = await getFrom(base, `/api/candles?${query}`);
      expect(response.status, query).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code, message: expect.any(String) } });
    }
    expect((await hubReads()).candles).toBe(before);
  });

  it("gives the candles of the history for ticks at any times", async () => {
    const tickArb = fc.record({
      gapMs: fc.oneof(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: 25 * 60_000 })),
      usdCents: fc.integer({ min: 1, max: 20_000_000 }),
      eurCents: fc.option(fc.integer({ min: 1, max: 20_000_000 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(tickArb, { minLength: 1, maxLength: 25 }),
        fc.constantFrom(...INTERVALS),
        fc.constantFrom<Currency>("USD", "EUR"),
        fc.integer({ min: 1, max: 4 }),
        async (run, interval, currency, limit) => {
          const startMs = testClock.freshHour() + 1;
          let atMs = startMs;
          let usd = 0;
          for (const { gapMs, usdCents, eurCents } of run) {
            atMs += gapMs;
            // USD moves at every tick, so the hub publishes each one.
            usd = usdCents / 100 === usd ? usd + 0.01 : usdCents / 100;
            testClock.set(atMs);
            await publishTick(eurCents === undefined ? { USD: usd } : { USD: usd, EUR: eurCents / 100 });
          }
          const base = freshHost();
          const from = Math.floor(startMs / 1000);
          const window = `from=${from}&to=${Math.floor(atMs / 1000)}`;
          const walked = [];
          let path: string | null = `/api/candles?currency=${currency}&interval=${interval}&${window}&limit=${limit}`;
          for (let pages = 0; path !== null; pages++) {
            if (pages > 30) throw new Error(`no end to the pages: ${path}`);
            const body = (await (await getFrom(base, path)).json()) as CandlesBody;
            walked.push(...body.candles);
            path = body.next;
          }
          // The whole buckets of the window: from the start of the first one, to the end of the last.
          const bucketS = CANDLE_INTERVAL_S[interval];
          const last = Math.floor(atMs / 1000);
          const wholeWindow = `from=${from - (from % bucketS)}&to=${last - (last % bucketS) + bucketS - 1}`;
          expect(walked).toEqual(await candlesOfHistory(base, currency, interval, wholeWindow));
        },
      ),
      { numRuns: 12 },
    );
  });
});

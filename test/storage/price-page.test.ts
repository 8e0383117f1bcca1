import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SUPPORTED_CURRENCIES, type Currency, type HistoryPoint, type Tick } from "../../src/protocol";

import { inTable } from "../support/table";

/** The page as the Worker used to build it: parse each stored row, pick the currency, stringify. */
function pageInJs(ticks: Tick[], currency: Currency, fromMs: number, toMs: number, afterSeq: number, limit: number) {
  const rows = ticks
    .filter((t) => t.tsMs >= fromMs && t.tsMs <= toMs && t.seq > afterSeq && t.prices[currency] !== undefined)
    .sort((a, b) => a.seq - b.seq);
  const page = rows.slice(0, limit);
  const points: HistoryPoint[] = page.map((t) => ({
    seq: t.seq,
    ts: Math.floor(t.tsMs / 1000),
    time: new Date(t.tsMs).toISOString(),
    price: t.prices[currency]!,
  }));
  return {
    points: JSON.stringify(points),
    count: page.length,
    lastSeq: page.at(-1)?.seq ?? null,
    more: rows.length > limit,
  };
}

const price = fc.oneof(
  fc.double({ min: 0.01, max: 1e7, noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: 1, max: 200_000 }).map((cents) => cents / 100),
  fc.constantFrom(0.1 + 0.2, 97_123.45, 1e21, 5e-7),
);

const ticksArb = fc
  .array(
    fc.record({
      gapMs: fc.integer({ min: 1, max: 5_000 }),
      prices: fc.dictionary(fc.constantFrom(...SUPPORTED_CURRENCIES), price, { minKeys: 1 }),
    }),
    { maxLength: 40 },
  )
  .map((rows) => {
    let tsMs = Date.UTC(2026, 10, 24, 19, 59, 58, 999);
    return rows.map((r, i): Tick => {
      tsMs += r.gapMs;
      return { seq: i + 1, tsMs, prices: r.prices, changed: Object.keys(r.prices) as Currency[], sources: ["test"] };
    });
  });

describe("TickTable.pricePage", () => {
  it("writes exactly the JSON the Worker once built row by row, for any ticks, window, cursor and limit", async () => {
    await fc.assert(
      fc.asyncProperty(
        ticksArb,
        fc.constantFrom(...SUPPORTED_CURRENCIES),
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 45 }),
        fc.integer({ min: 1, max: 50 }),
        async (ticks, currency, fromOffset, span, afterSeq, limit) => {
          const fromMs = Date.UTC(2026, 10, 24, 20) + fromOffset - 100_000;
          const toMs = fromMs + span;
          const page = await inTable("price-page", (table) => {
            for (const t of ticks) table.insert(t);
            return table.pricePage(currency, fromMs, toMs, afterSeq, limit);
          });
          expect(page).toEqual(pageInJs(ticks, currency, fromMs, toMs, afterSeq, limit));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("pages through a window with its cursor: every point once, in order", async () => {
    const ticks: Tick[] = Array.from({ length: 11 }, (_, i) => ({
      seq: i + 1,
      tsMs: 1_000_000 + i * 1000,
      prices: i % 3 === 0 ? { EUR: i } : { USD: 100 + i },
      changed: ["USD"],
      sources: [],
    }));
    const seen = await inTable("price-page-walk", (table) => {
      for (const t of ticks) table.insert(t);
      const seqs: number[] = [];
      let after = 0;
      for (;;) {
        const page = table.pricePage("USD", 0, Number.MAX_SAFE_INTEGER, after, 3);
        seqs.push(...(JSON.parse(page.points) as HistoryPoint[]).map((p) => p.seq));
        if (!page.more) return seqs;
        after = page.lastSeq!;
      }
    });
    expect(seen).toEqual(ticks.filter((t) => t.prices.USD !== undefined).map((t) => t.seq));
  });

  it("answers an empty window with an empty page", async () => {
    const page = await inTable("price-page-empty", (table) => table.pricePage("USD", 0, 10, 0, 5));
    expect(page).toEqual({ points: "[]", count: 0, lastSeq: null, more: false });
  });
});

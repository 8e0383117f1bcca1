import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  adoptStats,
  dayChange,
  foldPrice,
  forgetSeqs,
  fromStats,
  STATS_REFRESH_MS,
  statsQuestion,
} from "../../src/page/day-figures";

describe("page: 24-hour figures", () => {
  const stats = { open: 90_000.1, high: 91_000, low: 89_500, change: 123.35, change_pct: 0.14 };

  it("starts from /api/price's figures and its price, and gives the change as the server rounds it", () => {
    const f = fromStats(stats, 40, 90_123.45);
    expect(f).toEqual({ open: 90_000.1, high: 91_000, low: 89_500, last: 90_123.45, baseSeq: 40, lastSeq: 40 });
    expect(dayChange(f)).toEqual({ change: 123.35, change_pct: 0.14 });
  });

  it("follows live prices: a new high or low at once, the change from the open; an old price is no news", () => {
    let f = fromStats(stats, 40, 90_123.45);
    f = foldPrice(f, 41, 91_500.5);
    expect(f).toMatchObject({ high: 91_500.5, low: 89_500, last: 91_500.5, lastSeq: 41 });
    expect(dayChange(f)).toEqual({ change: 1500.4, change_pct: 1.67 });
    f = foldPrice(f, 42, 89_000);
    expect(f).toMatchObject({ high: 91_500.5, low: 89_000, last: 89_000 });
    expect(dayChange(f).change).toBe(-1000.1);
    expect(foldPrice(f, 42, 1)).toBe(f);
    expect(foldPrice(f, 30, 1)).toBe(f);
  });

  it("a fresh answer replaces the figures, with what the page saw since folded in; an older one is ignored", () => {
    const held = foldPrice(fromStats(stats, 40, 90_123.45), 45, 95_000);
    // An edge that kept tick 38: older than what the figures came from.
    expect(adoptStats(held, fromStats(stats, 38, 90_000), [])).toBe(held);
    // The minute's answer at tick 44 (its window's open moved); tick 45 came over the socket since.
    const fresh = fromStats({ ...stats, open: 90_500, high: 90_900 }, 44, 90_800);
    const adopted = adoptStats(held, fresh, [{ seq: 45, price: 95_000 }]);
    expect(adopted).toEqual({ open: 90_500, high: 95_000, low: 89_500, last: 95_000, baseSeq: 44, lastSeq: 45 });
    expect(adoptStats(undefined, fresh, [])).toEqual(fresh);
  });

  it("forgets its seqs after a reset (numbering starts again), so the new feed's prices count", () => {
    const f = forgetSeqs(fromStats(stats, 400, 90_123.45));
    expect(foldPrice(f, 1, 92_000)).toMatchObject({ high: 92_000, last: 92_000, lastSeq: 1 });
    expect(adoptStats(f, fromStats(stats, 2, 90_000), [])).toMatchObject({ baseSeq: 2 });
  });

  it("high and low always bound every price folded in, and last is the latest", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }), (prices) => {
        let f = fromStats(stats, 0, 90_000);
        prices.forEach((p, i) => {
          f = foldPrice(f, i + 1, p);
        });
        expect(f.high).toBe(Math.max(stats.high, ...prices));
        expect(f.low).toBe(Math.min(stats.low, ...prices));
        expect(f.last).toBe(prices.at(-1));
      }),
    );
  });

  it("asks about every wanted currency once a minute, and at once about one never asked about", () => {
    const t0 = 1_000_000;
    expect(statsQuestion(["USD"], new Set(), null, t0)).toEqual(["USD"]);
    const asked = new Set(["USD"] as const);
    expect(statsQuestion(["USD"], asked, t0, t0 + 1000)).toEqual([]);
    expect(statsQuestion(["USD"], asked, t0, t0 + STATS_REFRESH_MS - 1)).toEqual([]);
    expect(statsQuestion(["USD"], asked, t0, t0 + STATS_REFRESH_MS)).toEqual(["USD"]);
    expect(statsQuestion(["USD", "EUR"], asked, t0, t0 + 1000)).toEqual(["USD", "EUR"]);
    // Removing a currency asks nothing new.
    expect(statsQuestion([], asked, t0, t0 + 1000)).toEqual([]);
  });
});

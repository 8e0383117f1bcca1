import { describe, expect, it } from "vitest";
import {
  aggregate,
  rejectOutliers,
  roundPrice,
  type Observation,
  type PriceContext,
  type SuspectStreaks,
} from "../../src/hub/aggregate";
import { median } from "../../src/hub/median";
import type { Quotes } from "../../src/sources/types";

const OPTIONS = { maxDeviationPct: 2, readmitAfter: 3 };
/** No price published yet, and no currency with a cross-check to lose. */
const NO_HISTORY: PriceContext = { lastPrices: {}, quotedBy: {} };
const obs = (source: string, quotes: Quotes, fresh = true): Observation => ({ source, quotes, fresh });
const usd = (entries: Record<string, number>) => Object.entries(entries).map(([source, USD]) => obs(source, { USD }));

describe("median", () => {
  it("takes the middle value, or the mean of the two middle ones", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });
});

describe("roundPrice", () => {
  it("keeps 2 decimals, none for JPY, so float noise is no change", () => {
    expect(roundPrice("USD", 97123.45000000001)).toBe(97123.45);
    expect(roundPrice("USD", (0.1 + 0.2) * 1e5)).toBe(30000);
    expect(roundPrice("EUR", 89450.105)).toBeCloseTo(89450.11, 2);
    expect(roundPrice("JPY", 15700000.4)).toBe(15700000);
  });
});

describe("rejectOutliers", () => {
  it("drops one wild value among three without dragging down the honest ones", () => {
    const { accepted, rejected } = rejectOutliers([{ value: 100 }, { value: 101 }, { value: 1000 }], 2);
    expect(accepted.map((v) => v.value)).toEqual([100, 101]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.item.value).toBe(1000);
    expect(rejected[0]!.reference).toBe(100.5);
  });

  it("drops two liars among five, one at a time", () => {
    const { accepted } = rejectOutliers(
      [100, 101, 99, 150, 10].map((value) => ({ value })),
      2,
    );
    expect(accepted.map((v) => v.value)).toEqual([100, 101, 99]);
  });

  it("keeps a value exactly at the limit and never judges fewer than three", () => {
    expect(rejectOutliers([{ value: 100 }, { value: 100 }, { value: 102 }], 2).rejected).toHaveLength(0);
    expect(rejectOutliers([{ value: 100 }, { value: 1000 }], 2).rejected).toHaveLength(0);
  });
});

describe("aggregate", () => {
  it("publishes the rounded median of every currency and names the contributors", () => {
    const result = aggregate(
      [obs("a", { USD: 100.004, JPY: 15000.4 }), obs("b", { USD: 100.01, JPY: 15001 }), obs("c", { USD: 100.02 })],
      {},
      OPTIONS,
      NO_HISTORY,
    );
    expect(result.prices).toEqual({ USD: 100.01, JPY: 15001 });
    expect(result.contributors).toEqual(["a", "b", "c"]);
    expect(result.disputes).toEqual([]);
  });

  it("publishes the price of a currency that only one enabled source quotes", () => {
    expect(aggregate(usd({ a: 100 }), {}, OPTIONS, NO_HISTORY).prices).toEqual({ USD: 100 });
  });

  it("ignores insane values", () => {
    const result = aggregate(
      [
        obs("a", { USD: 100 }),
        obs("b", { USD: 0 }),
        obs("c", { USD: -5 }),
        obs("d", { USD: NaN }),
        obs("e", { USD: Infinity }),
      ],
      {},
      OPTIONS,
      NO_HISTORY,
    );
    expect(result.prices).toEqual({ USD: 100 });
    expect(result.contributors).toEqual(["a"]);
  });

  it("drops an outlier among three or more, marks its source suspect for that currency only", () => {
    const result = aggregate(
      [obs("a", { USD: 100, EUR: 90 }), obs("b", { USD: 101, EUR: 91 }), obs("c", { USD: 1010, EUR: 90.5 })],
      {},
      OPTIONS,
      NO_HISTORY,
    );
    expect(result.prices).toEqual({ USD: 100.5, EUR: 90.5 });
    expect(result.suspects.c).toEqual({ USD: 0 });
    expect(result.suspects.a).toEqual({});
    expect(result.rejected).toEqual([
      {
        source: "c",
        currency: "USD",
        value: 1010,
        reference: 100.5,
        deviationPct: expect.closeTo(904.98, 1),
        against: "others",
      },
    ]);
    expect(result.contributors).toEqual(["a", "b", "c"]);
  });

  it("publishes nothing new for a currency whose only two sources disagree", () => {
    const result = aggregate(
      [obs("a", { USD: 100, EUR: 90 }), obs("b", { USD: 103, EUR: 90.1 })],
      {},
      OPTIONS,
      NO_HISTORY,
    );
    expect(result.prices).toEqual({ EUR: 90.05 });
    expect(result.disputes).toEqual([{ currency: "USD", quotes: { a: 100, b: 103 } }]);
    expect(result.suspects).toEqual({ a: {}, b: {} });
  });

  it("publishes two sources that agree", () => {
    expect(aggregate(usd({ a: 100, b: 101 }), {}, OPTIONS, NO_HISTORY).prices).toEqual({ USD: 100.5 });
  });

  it("re-admits a suspect source only after it agreed for N polls in a row", () => {
    let suspects: Record<string, SuspectStreaks> = { c: { USD: 0 } };
    const poll = (c: number) => {
      const result = aggregate(usd({ a: 100, b: 101, c }), suspects, OPTIONS, NO_HISTORY);
      suspects = result.suspects;
      return result;
    };
    expect(poll(100.5).prices.USD).toBe(100.5); // agrees 1: not counted
    expect(suspects.c).toEqual({ USD: 1 });
    expect(poll(150).contributors).toEqual(["a", "b"]); // disagrees: streak reset
    expect(suspects.c).toEqual({ USD: 0 });
    poll(100.5);
    poll(100.5);
    const third = poll(100.5);
    expect(third.readmitted).toEqual([{ source: "c", currency: "USD" }]);
    expect(third.contributors).toEqual(["a", "b"]);
    expect(suspects.c).toEqual({});
    const after = poll(101.5);
    expect(after.contributors).toEqual(["a", "b", "c"]);
    expect(after.prices.USD).toBe(101);
  });

  it("does not count reused quotes towards re-admission, nor use a suspect's reused quotes", () => {
    const result = aggregate(
      [...usd({ a: 100, b: 101 }), obs("c", { USD: 100.5 }, false)],
      { c: { USD: 2 } },
      OPTIONS,
      NO_HISTORY,
    );
    expect(result.suspects.c).toEqual({ USD: 2 });
    expect(result.contributors).toEqual(["a", "b"]);
  });

  it("leaves a suspect's streak alone when there is nothing to compare it with", () => {
    const result = aggregate(usd({ c: 100 }), { c: { USD: 1 } }, OPTIONS, NO_HISTORY);
    expect(result.prices).toEqual({});
    expect(result.suspects.c).toEqual({ USD: 1 });
  });

  it("returns nothing for no observations", () => {
    const result = aggregate([], {}, OPTIONS, NO_HISTORY);
    expect(result.prices).toEqual({});
    expect(result.contributors).toEqual([]);
  });
});

describe("aggregate: when the sources left disagree", () => {
  /** USD last published at 100, quoted by two enabled sources. */
  const AT_100: PriceContext = { lastPrices: { USD: 100 }, quotedBy: { USD: 2 } };

  it("lets the one within MAX_DEVIATION_PCT of the last price win and marks the other suspect", () => {
    const result = aggregate(usd({ a: 1000, b: 100.8 }), {}, OPTIONS, AT_100);
    expect(result.prices).toEqual({ USD: 100.8 });
    expect(result.sourcesByCurrency).toEqual({ USD: ["b"] });
    expect(result.contributors).toEqual(["b"]);
    expect(result.disputes).toEqual([]);
    expect(result.suspects.a).toEqual({ USD: 0 });
    expect(result.rejected).toEqual([
      { source: "a", currency: "USD", value: 1000, reference: 100, deviationPct: 900, against: "last_price" },
    ]);
  });

  it("applies the tie-break to the two left after an outlier among three was dropped", () => {
    // 95 and 105 lie 10 % apart; 200 goes first as the outlier; neither is near 100.
    const far = aggregate(usd({ a: 95, b: 105, c: 200 }), {}, OPTIONS, AT_100);
    expect(far.prices).toEqual({});
    expect(far.disputes).toEqual([{ currency: "USD", quotes: { a: 95, b: 105, c: 200 } }]);
    const near = aggregate(usd({ a: 95, b: 105, c: 200 }), {}, OPTIONS, { ...AT_100, lastPrices: { USD: 104 } });
    expect(near.prices).toEqual({ USD: 105 });
    expect(near.suspects).toEqual({ a: { USD: 0 }, b: {}, c: { USD: 0 } });
  });

  it("is disputed when neither, or both, lie within the limit of the last price", () => {
    const neither = aggregate(usd({ a: 90, b: 110 }), {}, OPTIONS, AT_100);
    expect(neither.prices).toEqual({});
    expect(neither.disputes).toEqual([{ currency: "USD", quotes: { a: 90, b: 110 } }]);
    expect(neither.suspects).toEqual({ a: {}, b: {} });
    const both = aggregate(usd({ a: 98.5, b: 101.5 }), {}, OPTIONS, AT_100);
    expect(both.prices).toEqual({});
    expect(both.disputes).toEqual([{ currency: "USD", quotes: { a: 98.5, b: 101.5 } }]);
  });

  it("is disputed when nothing was published yet", () => {
    expect(aggregate(usd({ a: 1000, b: 100 }), {}, OPTIONS, NO_HISTORY).disputes).toEqual([
      { currency: "USD", quotes: { a: 1000, b: 100 } },
    ]);
  });

  it("publishes a price that really moved at once when the sources agree on the new level", () => {
    expect(aggregate(usd({ a: 110, b: 110.5 }), {}, OPTIONS, AT_100).prices).toEqual({ USD: 110.25 });
    expect(aggregate(usd({ a: 110, b: 110.5, c: 111 }), {}, OPTIONS, AT_100).prices).toEqual({ USD: 110.5 });
  });

  it("rounds the quotes it reports like published prices", () => {
    const result = aggregate(
      [obs("a", { JPY: 15_000_000.4 }), obs("b", { JPY: 16_000_000.6 })],
      {},
      OPTIONS,
      NO_HISTORY,
    );
    expect(result.disputes).toEqual([{ currency: "JPY", quotes: { a: 15_000_000, b: 16_000_001 } }]);
  });
});

describe("aggregate: a currency left with one source", () => {
  const AT_100: PriceContext = { lastPrices: { USD: 100 }, quotedBy: { USD: 2 } };

  it("publishes it while it stays within MAX_DEVIATION_PCT of the last price", () => {
    const result = aggregate(usd({ a: 101.9 }), {}, OPTIONS, AT_100);
    expect(result.prices).toEqual({ USD: 101.9 });
    expect(result.sourcesByCurrency).toEqual({ USD: ["a"] });
  });

  it("holds it back, disputed, when it moved further from the last price or there is none", () => {
    expect(aggregate(usd({ a: 1000 }), {}, OPTIONS, AT_100)).toMatchObject({
      prices: {},
      disputes: [{ currency: "USD", quotes: { a: 1000 } }],
      suspects: { a: {} },
    });
    expect(aggregate(usd({ a: 100 }), {}, OPTIONS, { ...AT_100, lastPrices: {} }).disputes).toHaveLength(1);
  });

  it("publishes it as is when no other enabled source quotes the currency", () => {
    expect(aggregate(usd({ a: 1000 }), {}, OPTIONS, { ...AT_100, quotedBy: { USD: 1 } }).prices).toEqual({ USD: 1000 });
  });

  it("publishes a move that a source on probation confirms, which counts towards re-admitting it", () => {
    const result = aggregate(usd({ a: 103, b: 103.2 }), { b: { USD: 1 } }, OPTIONS, AT_100);
    expect(result.prices).toEqual({ USD: 103 });
    expect(result.contributors).toEqual(["a"]);
    expect(result.suspects.b).toEqual({ USD: 2 });
  });

  it("reports a lone suspect's quote as a dispute instead of publishing it", () => {
    expect(aggregate(usd({ b: 100.1 }), { b: { USD: 1 } }, OPTIONS, AT_100)).toMatchObject({
      prices: {},
      disputes: [{ currency: "USD", quotes: { b: 100.1 } }],
      suspects: { b: { USD: 1 } },
    });
  });

  it("follows the price after a tie-break and re-admits the overruled source once it agrees", () => {
    let suspects: Record<string, SuspectStreaks> = {};
    let last = 100;
    const poll = (a: number, b: number) => {
      const result = aggregate(usd({ a, b }), suspects, OPTIONS, { lastPrices: { USD: last }, quotedBy: { USD: 2 } });
      suspects = result.suspects;
      last = result.prices.USD ?? last;
      return result;
    };
    expect(poll(1000, 100.5).prices.USD).toBe(100.5); // a overruled
    // The market moves 2.5 % in one poll: b alone is out of its band, but a (on probation) confirms it.
    expect(poll(102.9, 103).prices.USD).toBe(103);
    expect(poll(103.1, 103.1).prices.USD).toBe(103.1);
    const third = poll(103.2, 103.2);
    expect(third.readmitted).toEqual([{ source: "a", currency: "USD" }]);
    expect(poll(103.3, 103.5).contributors).toEqual(["a", "b"]);
  });
});

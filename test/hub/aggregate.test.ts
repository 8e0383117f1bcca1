import { describe, expect, it } from "vitest";
import {
  aggregate,
  rejectOutliers,
  roundPrice,
  type Observation,
  type SuspectStreaks,
} from "../../src/hub/aggregate";
import { median } from "../../src/hub/median";
import type { Quotes } from "../../src/sources/types";

const OPTIONS = { maxDeviationPct: 2, readmitAfter: 3 };
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
    expect(roundPrice("USD", 97123.450000000001)).toBe(97123.45);
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
    const { accepted } = rejectOutliers([100, 101, 99, 150, 10].map((value) => ({ value })), 2);
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
    );
    expect(result.prices).toEqual({ USD: 100.01, JPY: 15001 });
    expect(result.contributors).toEqual(["a", "b", "c"]);
    expect(result.disputed).toEqual([]);
  });

  it("publishes a single source's price", () => {
    expect(aggregate(usd({ a: 100 }), {}, OPTIONS).prices).toEqual({ USD: 100 });
  });

  it("ignores insane values", () => {
    const result = aggregate(
      [obs("a", { USD: 100 }), obs("b", { USD: 0 }), obs("c", { USD: -5 }), obs("d", { USD: NaN }), obs("e", { USD: Infinity })],
      {},
      OPTIONS,
    );
    expect(result.prices).toEqual({ USD: 100 });
    expect(result.contributors).toEqual(["a"]);
  });

  it("drops an outlier among three or more, marks its source suspect for that currency only", () => {
    const result = aggregate(
      [obs("a", { USD: 100, EUR: 90 }), obs("b", { USD: 101, EUR: 91 }), obs("c", { USD: 1010, EUR: 90.5 })],
      {},
      OPTIONS,
    );
    expect(result.prices).toEqual({ USD: 100.5, EUR: 90.5 });
    expect(result.suspects.c).toEqual({ USD: 0 });
    expect(result.suspects.a).toEqual({});
    expect(result.rejected).toEqual([
      { source: "c", currency: "USD", value: 1010, reference: 100.5, deviationPct: expect.closeTo(904.98, 1) },
    ]);
    expect(result.contributors).toEqual(["a", "b", "c"]);
  });

  it("publishes nothing new for a currency whose only two sources disagree", () => {
    const result = aggregate([obs("a", { USD: 100, EUR: 90 }), obs("b", { USD: 103, EUR: 90.1 })], {}, OPTIONS);
    expect(result.prices).toEqual({ EUR: 90.05 });
    expect(result.disputed).toEqual(["USD"]);
    expect(result.disagreements).toEqual([{ currency: "USD", values: { a: 100, b: 103 } }]);
    expect(result.suspects).toEqual({ a: {}, b: {} });
  });

  it("publishes two sources that agree", () => {
    expect(aggregate(usd({ a: 100, b: 101 }), {}, OPTIONS).prices).toEqual({ USD: 100.5 });
  });

  it("re-admits a suspect source only after it agreed for N polls in a row", () => {
    let suspects: Record<string, SuspectStreaks> = { c: { USD: 0 } };
    const poll = (c: number) => {
      const result = aggregate(usd({ a: 100, b: 101, c }), suspects, OPTIONS);
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
    const result = aggregate([...usd({ a: 100, b: 101 }), obs("c", { USD: 100.5 }, false)], { c: { USD: 2 } }, OPTIONS);
    expect(result.suspects.c).toEqual({ USD: 2 });
    expect(result.contributors).toEqual(["a", "b"]);
  });

  it("leaves a suspect's streak alone when there is nothing to compare it with", () => {
    const result = aggregate(usd({ c: 100 }), { c: { USD: 1 } }, OPTIONS);
    expect(result.prices).toEqual({});
    expect(result.suspects.c).toEqual({ USD: 1 });
  });

  it("returns nothing for no observations", () => {
    const result = aggregate([], {}, OPTIONS);
    expect(result.prices).toEqual({});
    expect(result.contributors).toEqual([]);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHANGE_PCT_DECIMALS, decimalsOf, priceChange } from "../../src/protocol";

describe("decimalsOf", () => {
  it.each([
    [90_000, 0],
    [90_000.1, 1],
    [90_123.45, 2],
    [0.1 + 0.2, 17],
    [5e-7, 7],
    [1.25e-7, 9],
    [1e21, 0],
    [-3.5, 1],
  ])("%s has %s", (value, decimals) => expect(decimalsOf(value)).toBe(decimals));
});

describe("priceChange", () => {
  it("gives the difference of two published prices exactly, not floating point's", () => {
    expect(90_123.45 - 90_000.1).not.toBe(123.35);
    expect(priceChange(90_000.1, 90_123.45)).toEqual({ change: 123.35, change_pct: 0.14 });
    expect(priceChange(90_123.45, 90_000.1)).toEqual({ change: -123.35, change_pct: -0.14 });
    expect(priceChange(14_000_000, 13_650_000)).toEqual({ change: -350_000, change_pct: -2.5 });
  });

  it("says 0, never -0, for no move, and for a move too small for the percentage", () => {
    const still = priceChange(97_000.5, 97_000.5);
    expect(Object.is(still.change, 0) && Object.is(still.change_pct, 0)).toBe(true);
    expect(Object.is(priceChange(97_000, 96_999.99).change_pct, 0)).toBe(true);
  });

  it("is the exact difference of any two prices in cents, and its percentage to two decimals", () => {
    const cents = fc.integer({ min: 1, max: 100_000_000_00 });
    fc.assert(
      fc.property(cents, cents, (openCents, latestCents) => {
        const open = openCents / 100;
        const { change, change_pct } = priceChange(open, latestCents / 100);
        expect(change).toBe((latestCents - openCents) / 100);
        // Rounded to two decimals: written with two at most, within half a hundredth of the true value.
        expect(Number(change_pct.toFixed(CHANGE_PCT_DECIMALS))).toBe(change_pct);
        const exact = ((latestCents - openCents) / openCents) * 100;
        expect(Math.abs(change_pct - exact)).toBeLessThanOrEqual(0.005 + Math.abs(exact) * 1e-12);
      }),
    );
  });
});

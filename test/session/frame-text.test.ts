import { afterEach, describe, expect, it, vi } from "vitest";
import { priceMessage, type Tick } from "../../src/protocol";
import { priceText } from "../../src/session/frame-text";

const tick: Tick = {
  seq: 41,
  tsMs: 41_000,
  prices: { USD: 100, EUR: 90 },
  changed: ["USD"],
  sources: ["coinbase", "kraken"],
};

afterEach(() => vi.restoreAllMocks());

describe("price frame text", () => {
  it("is the frame priceMessage makes, live and replayed", () => {
    for (const replayed of [false, true]) {
      expect(JSON.parse(priceText(tick, ["USD", "EUR"], replayed))).toEqual(
        priceMessage(tick, ["USD", "EUR"], replayed),
      );
    }
    const split: Tick = { ...tick, seq: 42, currencySources: { EUR: ["kraken"] } };
    expect(JSON.parse(priceText(split, ["EUR", "USD"], false))).toEqual(priceMessage(split, ["EUR", "USD"], false));
  });

  it("is built once for every socket asking the same tick in the same currencies, even from a copy of it", () => {
    const stringify = vi.spyOn(JSON, "stringify");
    const first = priceText({ ...tick, seq: 43 }, ["USD"], false);
    for (let i = 0; i < 100; i++) expect(priceText({ ...tick, seq: 43 }, ["USD"], false)).toBe(first);
    expect(stringify).toHaveBeenCalledTimes(1);
    priceText({ ...tick, seq: 43 }, ["EUR"], false);
    priceText({ ...tick, seq: 43 }, ["USD"], true);
    expect(stringify).toHaveBeenCalledTimes(3);
  });

  it("never serves another tick's frame, even one with the same seq and time (a new history)", () => {
    const before = priceText({ ...tick, seq: 44 }, ["USD"], false);
    const moved = priceText({ ...tick, seq: 44, prices: { USD: 101 } }, ["USD"], false);
    expect(JSON.parse(moved).prices).toEqual({ USD: 101 });
    const resourced = priceText({ ...tick, seq: 44, prices: { USD: 101 }, sources: ["kraken"] }, ["USD"], false);
    expect(JSON.parse(resourced).sources).toEqual(["kraken"]);
    expect(JSON.parse(before).prices).toEqual({ USD: 100 });
  });
});

import { describe, expect, it } from "vitest";
import { applySubscription, parseClientFrame, priceMessage, tickConcerns, type Tick } from "../../src/protocol";

describe("parseClientFrame", () => {
  it("parses subscribe and unsubscribe", () => {
    expect(parseClientFrame('{"type":"subscribe","currencies":["gbp","GBP","eur"]}')).toEqual({
      ok: true,
      value: { type: "subscribe", currencies: ["GBP", "EUR"] },
    });
    expect(parseClientFrame('{"type":"unsubscribe","currencies":["USD"]}')).toMatchObject({ ok: true });
  });

  it.each([
    ["{", "invalid_frame"],
    ["[1]", "invalid_frame"],
    ["null", "invalid_frame"],
    ['{"type":"hello"}', "unknown_type"],
    ['{"currencies":["USD"]}', "unknown_type"],
    ['{"type":"subscribe"}', "invalid_currencies"],
    ['{"type":"subscribe","currencies":[1]}', "invalid_currencies"],
    ['{"type":"subscribe","currencies":["DOGE"]}', "unsupported_currency"],
    [`{"type":"subscribe","currencies":["${"USD".repeat(1500)}"]}`, "frame_too_large"],
  ])("answers %s with %s", (text, code) => {
    const r = parseClientFrame(text);
    expect(r.ok ? null : r.error.code).toBe(code);
  });
});

describe("subscriptions and price frames", () => {
  const tick: Tick = {
    seq: 7,
    tsMs: 1764014405123,
    prices: { USD: 97123.45, EUR: 89450.1 },
    changed: ["EUR"],
    sources: ["kraken"],
  };

  it("applies subscribe/unsubscribe as set operations keeping order", () => {
    expect(applySubscription(["USD"], { type: "subscribe", currencies: ["EUR", "USD"] })).toEqual(["USD", "EUR"]);
    expect(applySubscription(["USD", "EUR"], { type: "unsubscribe", currencies: ["USD", "GBP"] })).toEqual(["EUR"]);
  });

  it("builds the contract's price frame with only the socket's currencies", () => {
    expect(priceMessage(tick, ["EUR", "GBP"], false)).toEqual({
      type: "price",
      seq: 7,
      ts: 1764014405,
      time: "2025-11-24T20:00:05.123Z",
      prices: { EUR: 89450.1 },
      sources: ["kraken"],
      replayed: false,
    });
  });

  it("concerns a socket only when one of its currencies changed", () => {
    expect(tickConcerns(tick, ["USD"])).toBe(false);
    expect(tickConcerns(tick, ["USD", "EUR"])).toBe(true);
  });
});

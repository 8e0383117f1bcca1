import { describe, expect, it } from "vitest";
import { parseHistory, parsePriceSnapshot } from "../../src/page/frames";
import { parseServerFrame } from "../../src/protocol";
import { pt } from "./support/chart-point";

describe("page: frames and API bodies", () => {
  it("parses server frames and rejects junk", () => {
    expect(parseServerFrame("pong")).toBeNull();
    expect(parseServerFrame('{"type":"nope"}')).toBeNull();
    expect(parseServerFrame('{"type":"price","seq":"1","prices":{}}')).toBeNull();
    expect(
      parseServerFrame(
        '{"type":"price","seq":4,"ts":1764014405,"time":"2026-11-24T20:00:05.123Z","prices":{"USD":97123.45,"XXX":1,"EUR":-1},"sources":["coinbase"],"replayed":true}',
      ),
    ).toEqual({
      type: "price",
      seq: 4,
      ts: 1764014405,
      time: "2026-11-24T20:00:05.123Z",
      prices: { USD: 97123.45 },
      sources: ["coinbase"],
      replayed: true,
    });
    expect(parseServerFrame('{"type":"replay_end","count":12}')).toEqual({ type: "replay_end", count: 12 });
    expect(parseServerFrame('{"type":"status","state":"stale","since":1764014405}')).toEqual({
      type: "status",
      state: "stale",
      since: 1764014405,
    });
  });

  it("parses a disputed status and per-currency sources, dropping what it does not know", () => {
    expect(
      parseServerFrame(
        JSON.stringify({
          type: "status",
          state: "disputed",
          since: 1764014405,
          disputes: [
            { currency: "JPY", quotes: { kraken: 151_000_000, bad: "x" } },
            { currency: "XXX", quotes: {} },
            "junk",
          ],
        }),
      ),
    ).toEqual({
      type: "status",
      state: "disputed",
      since: 1764014405,
      disputes: [{ currency: "JPY", quotes: { kraken: 151_000_000 } }],
    });
    const frame = (bySource: unknown) =>
      parseServerFrame(
        JSON.stringify({
          type: "price",
          seq: 1,
          ts: 1,
          prices: { USD: 1, JPY: 150 },
          sources: ["a", "b"],
          sources_by_currency: bySource,
        }),
      );
    expect(frame({ JPY: ["b"], XXX: ["a"] })).toMatchObject({ sources_by_currency: { JPY: ["b"] } });
    expect(frame({ XXX: ["a"] })).not.toHaveProperty("sources_by_currency");
    expect(frame(undefined)).not.toHaveProperty("sources_by_currency");
  });

  it("reads /api/history and /api/price bodies", () => {
    const h = parseHistory({
      currency: "USD",
      from: 0,
      to: 10,
      points: [
        { seq: 2, ts: 5, time: "1970-01-01T00:00:05.500Z", price: 2 },
        { seq: 1, ts: 4, price: 1 },
        { seq: 3, ts: 6, price: "x" },
      ],
    });
    expect(h).toEqual({
      currency: "USD",
      points: [pt(1, 4000, 1), pt(2, 5500, 2)],
      next: null,
    });
    const page = (next: unknown) => parseHistory({ currency: "EUR", points: [], next })?.next;
    expect(page("/api/history?currency=EUR&from=60&limit=2000&after=42")).toBe(
      "/api/history?currency=EUR&from=60&limit=2000&after=42",
    );
    for (const elsewhere of [
      "https://evil.example/api/history?x=1",
      "//evil.example/api/history?a",
      "/health",
      "/api/history?a=<b>",
      7,
      null,
    ]) {
      expect(page(elsewhere)).toBeNull();
    }
    expect(parseHistory({ error: { code: "x", message: "y" } })).toBeNull();
    expect(
      parsePriceSnapshot({ seq: 9, ts: 10, time: "1970-01-01T00:00:10.000Z", prices: { EUR: 5 }, sources: ["a"] }),
    ).toEqual({
      seq: 9,
      time: "1970-01-01T00:00:10.000Z",
      prices: { EUR: 5 },
      sources: ["a"],
    });
  });
});

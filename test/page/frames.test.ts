import { describe, expect, it } from "vitest";
import { parseCandles, parseHistory, parsePriceSnapshot } from "../../src/page/frames";
import { parseServerFrame } from "../../src/protocol";
import { pt } from "./support/chart-point";

describe("page: frames and API bodies", () => {
  it("parses server frames and rejects junk", () => {
    expect(parseServerFrame("pong")).toBeNull();
    expect(parseServerFrame('{"type":"nope"}')).toBeNull();
    expect(parseServerFrame('{"type":"price","seq":"1","prices":{}}')).toBeNull();
    expect(
      parseServerFrame(
        '{"type":"price","seq":4,"ts":1764014405,"time":"2026-11-24T20:00:05.123Z",' +
          '"prices":{"USD":97123.45,"XXX":1,"EUR":-1},"sources":["coinbase"],"replayed":true}',
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
      stats: {},
    });
  });

  it("reads the 24-hour figures of /api/price, dropping malformed ones", () => {
    const usd = { open: 90_000.1, high: 91_000, low: 89_500, change: 123.35, change_pct: 0.14 };
    const snapshot = parsePriceSnapshot({
      seq: 9,
      ts: 10,
      prices: { USD: 90_123.45, EUR: 80_000 },
      sources: [],
      stats_24h: {
        USD: usd,
        EUR: { open: 1, high: 1, low: 2, change: 0, change_pct: 0 },
        GBP: { open: "1", high: 1, low: 1, change: 0, change_pct: 0 },
        XXX: usd,
      },
    });
    expect(snapshot?.stats).toEqual({ USD: usd });
    expect(parsePriceSnapshot({ seq: 9, ts: 10, prices: {}, stats_24h: "junk" })?.stats).toEqual({});
  });

  it("reads /api/candles bodies: candles in time order, only consistent ones, a next page of the same API", () => {
    const k = (time: number, open: number, high: number, low: number, close: number) => ({
      time,
      open,
      high,
      low,
      close,
      ticks: 3,
    });
    const body = parseCandles({
      currency: "USD",
      interval: "15m",
      candles: [k(1800, 5, 6, 4, 5), k(900, 3, 4, 2, 4), k(2700, 5, 4, 6, 5), { time: 3600 }, k(4500, 5, 6, 5.5, 6)],
      next: "/api/candles?currency=USD&interval=15m&from=0&limit=1000&after=1800",
    });
    expect(body).toEqual({
      currency: "USD",
      interval: "15m",
      candles: [k(900, 3, 4, 2, 4), k(1800, 5, 6, 4, 5)],
      next: "/api/candles?currency=USD&interval=15m&from=0&limit=1000&after=1800",
    });
    const next = (value: unknown) => parseCandles({ currency: "USD", interval: "1m", candles: [], next: value })?.next;
    for (const elsewhere of [
      "https://evil.example/api/candles?a",
      "/api/history?currency=USD",
      "/api/candles?a=<b>",
      1,
    ]) {
      expect(next(elsewhere)).toBeNull();
    }
    expect(parseCandles({ currency: "USD", interval: "2m", candles: [] })).toBeNull();
    expect(parseCandles({ currency: "XXX", interval: "1m", candles: [] })).toBeNull();
    expect(parseCandles({ currency: "USD", interval: "1m" })).toBeNull();
    expect(parseCandles({ error: { code: "invalid_interval", message: "no" } })).toBeNull();
  });
});

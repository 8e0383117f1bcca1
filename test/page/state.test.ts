import { describe, expect, it } from "vitest";
import {
  connectionOf,
  initialState,
  reduce,
  watchedDisputes,
  type ViewEvent,
  type ViewState,
} from "../../src/page/state";
import { statusDetail } from "../../src/page/status-text";
import type { Dispute } from "../../src/protocol";
import type { PriceTick, WelcomeInfo } from "../../src/sdk";
import { pt } from "./support/chart-point";

describe("page: view state", () => {
  const T0 = Date.UTC(2026, 10, 24, 20, 0, 0);
  const price = (seq: number, prices: Partial<Record<"USD" | "EUR" | "GBP", number>>, replayed = false): ViewEvent => ({
    type: "price",
    tick: {
      seq,
      ts: Math.floor((T0 + seq * 5000) / 1000),
      time: new Date(T0 + seq * 5000).toISOString(),
      prices,
      sources: ["coinbase", "kraken"],
      replayed,
    } satisfies PriceTick,
    nowMs: T0 + 60_000,
  });
  const welcome = (currencies: ("USD" | "EUR" | "GBP")[], resumed = false): ViewEvent => ({
    type: "welcome",
    info: {
      clientId: "abc",
      currencies,
      resumed,
      intervalMs: 5000,
      epoch: "e1",
      protocol: "1.0",
      heartbeatS: 30,
    } satisfies WelcomeInfo,
  });
  const link = (
    state: "connecting" | "open" | "reconnecting" | "closed",
    attempt = 0,
    retryAt: number | null = null,
    resuming = false,
  ): ViewEvent => ({
    type: "link",
    state,
    attempt,
    retryAt,
    resuming,
  });
  const run = (s: ViewState, ...events: ViewEvent[]) => events.reduce(reduce, s);

  it("goes connecting → live on welcome and tracks changes per currency", () => {
    let s = reduce(initialState({ currencies: ["USD", "EUR"] }), link("connecting"));
    expect(s.connection).toBe("connecting");
    s = run(
      s,
      welcome(["USD", "EUR"]),
      link("open"),
      price(1, { USD: 100, EUR: 90 }),
      price(2, { USD: 101, EUR: 90 }),
      price(3, { USD: 99.5, EUR: 91 }),
    );
    expect(s.connection).toBe("live");
    expect(s.clientId).toBe("abc");
    expect(s.confirmed).toEqual(["USD", "EUR"]);
    expect(s.lastSeq).toBe(3);
    expect(s.prices.USD).toMatchObject({ price: 99.5, previous: 101, change: -1.5, seq: 3, replayed: false });
    expect(s.prices.EUR).toMatchObject({ price: 91, previous: 90, change: 1 });
    expect(s.series.USD!.map((p) => p.price)).toEqual([100, 101, 99.5]);
    expect(s.ticks.map((t) => t.seq)).toEqual([3, 2, 1]);
  });

  it("says quiet market while heartbeats come and no price, until a price or a dropped link", () => {
    const live = run(initialState(), welcome(["USD"]), link("open"), price(1, { USD: 100 }));
    expect(statusDetail(live, T0)).toBe("");
    const quiet = reduce(live, { type: "heartbeat", nowMs: T0 + 30_000 });
    expect(quiet.aliveAtMs).toBe(T0 + 30_000);
    expect(statusDetail(quiet, T0 + 31_000)).toMatch(/^quiet market · feed alive \d\d:\d\d:\d\d/);
    expect(reduce(quiet, price(2, { USD: 101 })).aliveAtMs).toBeNull();
    expect(reduce(quiet, link("reconnecting", 0, T0 + 40_000)).aliveAtMs).toBeNull();
  });

  it("shows reconnecting with the retry time and attempt, and closed after Close", () => {
    let s = run(initialState(), link("connecting"), welcome(["USD"]), link("open"), price(5, { USD: 100 }));
    s = reduce(s, link("reconnecting", 1, T0 + 1000));
    expect(s).toMatchObject({
      connection: "reconnecting",
      attempt: 1,
      retryAt: T0 + 1000,
      confirmed: null,
      replaying: false,
    });
    s = reduce(s, link("reconnecting", 1, null, true));
    expect(s.replaying).toBe(true);
    s = run(s, welcome(["USD"], true), link("open"), { type: "replay", count: 0 });
    expect(s).toMatchObject({ connection: "live", attempt: 0, replaying: false, missed: null });
    expect(reduce(s, link("closed")).connection).toBe("closed");
  });

  it("marks replayed prices and shows the replay count, the gaps and a reset", () => {
    let s = run(initialState(), welcome(["USD"]), link("open"), price(1, { USD: 100 }));
    s = run(s, link("closed"), link("connecting", 0, null, true), welcome(["USD"], true), link("open"));
    expect(s.replaying).toBe(true);
    s = run(s, price(2, { USD: 101 }, true), price(3, { USD: 103 }, true));
    expect(s.prices.USD).toMatchObject({ price: 103, replayed: true, change: 2 });
    s = run(s, { type: "gap", range: { fromSeq: 4, toSeq: 4 } }, { type: "replay", count: 2 });
    expect(s.replaying).toBe(false);
    expect(s.missed).toEqual({ count: 2, gaps: [{ fromSeq: 4, toSeq: 4 }], reset: false });
    expect(s.series.USD!.filter((p) => p.replayed).map((p) => p.seq)).toEqual([2, 3]);
    s = run(s, price(5, { USD: 104 }));
    expect(s.prices.USD).toMatchObject({ replayed: false, seq: 5 });
    expect(s.ticks.map((t) => [t.seq, t.replayed])).toEqual([
      [5, false],
      [3, true],
      [2, true],
      [1, false],
    ]);
    s = reduce(s, { type: "dismiss_missed" });
    expect(s.missed).toBeNull();
    // A reset: seq numbers restart, and the notice says why nothing before it can come.
    s = run(s, { type: "reset" }, price(1, { USD: 104.5 }));
    expect(s.missed).toEqual({ count: 0, gaps: [], reset: true });
    expect(s.lastSeq).toBe(1);
    expect(s.prices.USD).toMatchObject({ price: 104.5, previous: 104, seq: 1 });
  });

  const status = (st: "live" | "stale" | "disputed", disputes: Dispute[] = []): ViewEvent => ({
    type: "status",
    status:
      st === "live"
        ? { state: "live" }
        : st === "stale"
          ? { state: "stale", since: Math.floor(T0 / 1000) }
          : { state: "disputed", since: Math.floor(T0 / 1000), disputes },
    nowMs: T0 + 60_000,
  });

  it("shows stale on the pill while open, and live again", () => {
    let s = run(initialState(), welcome(["USD"]), link("open"), price(1, { USD: 100 }));
    s = reduce(s, status("stale"));
    expect(s).toMatchObject({ connection: "stale", staleSince: T0 });
    // While not connected the connection wins; back open, the status shows again.
    s = reduce(s, link("reconnecting", 1, T0));
    expect(s.connection).toBe("reconnecting");
    s = reduce(s, link("open"));
    expect(s.connection).toBe("stale");
    s = reduce(s, status("live"));
    expect(s).toMatchObject({ connection: "live", staleSince: null });
    expect(connectionOf("open", null)).toBe("live");
    expect(connectionOf("closed", T0)).toBe("closed");
  });

  it("shows disputes about the watched currencies until the feed says otherwise", () => {
    const jpy = { currency: "JPY" as const, quotes: { kraken: 1_512_180_000 } };
    const usd = { currency: "USD" as const, quotes: { bitstamp: 97_100, kraken: 971_000 } };
    let s = run(
      initialState({ currencies: ["USD", "EUR"] }),
      welcome(["USD", "EUR"]),
      link("open"),
      price(1, { USD: 100 }),
      status("disputed", [usd, jpy]),
    );
    expect(s.connection).toBe("live");
    expect(s.disputed).toEqual({ sinceMs: T0, disputes: [usd, jpy] });
    expect(watchedDisputes(s)).toEqual([usd]);
    s = reduce(s, status("live"));
    expect(s.disputed).toBeNull();
    // Sources answering again after an outage: disputed replaces stale, and the other way round.
    s = run(s, status("stale"), status("disputed", [usd]));
    expect(s).toMatchObject({ connection: "live", staleSince: null });
    s = reduce(s, status("stale"));
    expect(s.disputed).toBeNull();
    // A reconnect changes nothing by itself: the library re-confirms the status (see test/sdk).
    s = run(s, status("disputed", [usd]), link("reconnecting", 1, T0), link("open"), welcome(["USD", "EUR"], true));
    expect(watchedDisputes(s)).toEqual([usd]);
  });

  it("keeps a currency's own sources from the tick", () => {
    const tick = price(1, { USD: 100, EUR: 90 });
    if (tick.type !== "price") throw new Error("a price event");
    const s = run(initialState({ currencies: ["USD", "EUR"] }), welcome(["USD", "EUR"]), {
      ...tick,
      tick: { ...tick.tick, sourcesByCurrency: { EUR: ["kraken"] } },
    });
    expect(s.prices.EUR?.sources).toEqual(["kraken"]);
    expect(s.prices.USD?.sources).toBeNull();
  });

  it("changes the selection and confirms it from the server", () => {
    let s = run(initialState({ currencies: ["USD"] }), welcome(["USD"]), link("open"));
    s = reduce(s, { type: "select", currencies: ["GBP", "USD"] });
    expect(s.wanted).toEqual(["USD", "GBP"]);
    s = reduce(s, { type: "subscribed", currencies: ["GBP", "USD"] });
    expect(s.confirmed).toEqual(["USD", "GBP"]);
    s = reduce(s, { type: "focus", currency: "GBP" });
    s = reduce(s, { type: "select", currencies: ["USD"] });
    expect(s.focus).toBe("USD");
    expect(reduce(s, { type: "select", currencies: [] })).toBe(s);
  });

  it("merges fetched history with live points and fills unpriced currencies from a snapshot", () => {
    let s = run(initialState({ currencies: ["USD", "EUR"] }), welcome(["USD", "EUR"]), price(10, { USD: 110 }));
    s = reduce(s, {
      type: "history",
      currency: "USD",
      points: [pt(8, T0 + 40_000, 108), pt(9, T0 + 45_000, 109), pt(10, T0 + 50_000, 110)],
      nowMs: T0 + 60_000,
    });
    expect(s.series.USD!.map((p) => p.seq)).toEqual([8, 9, 10]);
    expect(s.historyLoaded.USD).toBe(true);
    s = reduce(s, {
      type: "snapshot",
      snapshot: { seq: 10, time: new Date(T0).toISOString(), prices: { USD: 1, EUR: 95 }, sources: [], stats: {} },
    });
    expect(s.prices.USD!.price).toBe(110);
    expect(s.prices.EUR).toMatchObject({ price: 95, fromSnapshot: true, change: null });
    s = run(s, price(11, { USD: 110, EUR: 96 }));
    expect(s.prices.EUR).toMatchObject({ price: 96, previous: 95, change: 1, fromSnapshot: false });
    // The chart window slides: points older than an hour go (but the last one before it stays).
    s = reduce(s, { type: "clock", nowMs: T0 + 3_600_000 + 52_000 });
    expect(s.series.USD!.map((p) => p.seq)).toEqual([10, 11]);
  });

  it("keeps the chart's range, starting from the stored one or the hour", () => {
    expect(initialState().range).toBe("1h");
    expect(initialState({ range: "24h" }).range).toBe("24h");
    const s = initialState();
    const day = reduce(s, { type: "range", range: "24h" });
    expect(day.range).toBe("24h");
    expect(reduce(day, { type: "range", range: "24h" })).toBe(day);
    expect(reduce(day, { type: "range", range: "1h" }).range).toBe("1h");
  });

  it("takes the 24-hour figures from /api/price with the prices seen since its tick, moves them with live ones", () => {
    const snapshot = (seq: number, open: number, high: number, low: number) => ({
      type: "snapshot" as const,
      snapshot: {
        seq,
        time: new Date(T0).toISOString(),
        prices: { USD: 100 },
        sources: [],
        stats: { USD: { open, high, low, change: 100 - open, change_pct: 0 } },
      },
    });
    let s = run(initialState(), welcome(["USD"]), price(1, { USD: 100 }), price(2, { USD: 130 }));
    expect(s.day.USD).toBeUndefined();
    // The edge's answer is of tick 1: tick 2, seen since, is folded in.
    s = reduce(s, snapshot(1, 80, 120, 70));
    expect(s.day.USD).toMatchObject({ open: 80, high: 130, low: 70, last: 130, baseSeq: 1, lastSeq: 2 });
    s = run(s, price(3, { USD: 60 }));
    expect(s.day.USD).toMatchObject({ high: 130, low: 60, last: 60, lastSeq: 3 });
    // An older answer than the figures' leaves them; the next minute's replaces them.
    expect(reduce(s, snapshot(0, 1, 1, 1)).day).toBe(s.day);
    s = reduce(s, snapshot(3, 90, 125, 60));
    expect(s.day.USD).toMatchObject({ open: 90, high: 125, low: 60, baseSeq: 3 });
    // A reset: numbering starts again, the next price still counts.
    s = run(s, { type: "reset" }, price(1, { USD: 150 }));
    expect(s.day.USD).toMatchObject({ high: 150, last: 150, lastSeq: 1 });
  });

  it("builds the 24-hour candles from /api/candles and the live prices, and slides their window", () => {
    const bucket = T0 / 1000;
    let s = run(initialState(), welcome(["USD"]), price(1, { USD: 100 }), price(2, { USD: 104 }));
    // Not loaded: live prices wait in the hour's series.
    expect(s.candles.USD).toBeUndefined();
    // The server's candles were read before tick 2.
    const earlier = { time: bucket - 900, open: 90, high: 95, low: 85, close: 92, ticks: 9 };
    s = reduce(s, {
      type: "candles",
      currency: "USD",
      candles: [earlier, { time: bucket, open: 100, high: 100, low: 100, close: 100, ticks: 1 }],
      nowMs: T0 + 10_000,
    });
    expect(s.candlesLoaded.USD).toBe(true);
    expect(s.candles.USD!.at(-1)).toMatchObject({ time: bucket, open: 100, high: 104, low: 100, close: 104 });
    s = run(s, price(3, { USD: 97 }));
    expect(s.candles.USD!.at(-1)).toMatchObject({ high: 104, low: 97, close: 97 });
    // seq 180 is 15 minutes on: a new bucket.
    s = run(s, price(180, { USD: 99 }));
    expect(s.candles.USD!.map((k) => k.time)).toEqual([bucket - 900, bucket, bucket + 900]);
    expect(s.candles.USD!.at(-1)).toMatchObject({ open: 99, high: 99, low: 99, close: 99 });
    // Nearly a day later the window is the 96 buckets up to the end of the current one: the first has left it.
    const later = reduce(s, { type: "clock", nowMs: T0 + 86_400_000 - 2 });
    expect(later.candles.USD!.map((k) => k.time)).toEqual([bucket, bucket + 900]);
    expect(reduce(later, { type: "clock", nowMs: T0 + 86_400_000 - 1 }).candles).toBe(later.candles);
    // Prices lost in a gap: the candles stay on show and are asked for again.
    const gapped = reduce(s, { type: "gap", range: { fromSeq: 181, toSeq: 185 } });
    expect(gapped.candlesLoaded).toEqual({});
    expect(gapped.candles).toBe(s.candles);
  });
});

import { describe, expect, it } from "vitest";
import { memoryStorage, PriceFeedClient, type PriceFeedOptions } from "../../src/sdk";
import { backoffCeiling, backoffDelay } from "../../src/sdk/backoff";
import { subscriptionDiff } from "../../src/sdk/subscription";
import { FakeClock, fakeWebSocket, OPEN, type FakeSocket } from "./support/fakes";

const URL_ = "ws://feed.test/pricefeed";

function setup(options: Partial<PriceFeedOptions> = {}) {
  const clock = new FakeClock();
  const fake = fakeWebSocket();
  const feed = new PriceFeedClient({
    url: URL_,
    currencies: ["USD", "EUR"],
    WebSocket: fake.WebSocket,
    clock,
    random: () => 1,
    ...options,
  });
  const log: string[] = [];
  feed.on("price", (t) => log.push(`price ${t.seq}${t.replayed ? "r" : ""}`));
  feed.on("gap", (g) => log.push(`gap ${g.fromSeq}-${g.toSeq}`));
  feed.on("status", (s) => log.push(`status ${s.state}`));
  feed.on("state", (s, d) => log.push(`state ${s}${d.retryAt !== null ? ` +${d.retryAt - clock.now()}` : ""}`));
  feed.on("reset", (r) => log.push(`reset ${r.epoch}`));
  feed.on("replay", (r) => log.push(`replay ${r.count}`));
  feed.on("subscribed", (c) => log.push(`subscribed ${c.join(",")}`));
  feed.on("error", (e) => log.push(`error ${e.code}`));
  return { clock, fake, feed, log };
}

const welcome = (over: Record<string, unknown> = {}) => ({
  type: "welcome",
  client_id: "c1",
  currencies: ["USD", "EUR"],
  resumed: false,
  interval_ms: 5000,
  epoch: "e1",
  ...over,
});
const price = (seq: number, replayed = false, ts = 1_764_000_000 + seq) => ({
  type: "price",
  seq,
  ts,
  time: new Date(ts * 1000).toISOString(),
  prices: { USD: 90_000 + seq, EUR: 80_000 + seq },
  sources: ["simulated"],
  replayed,
});

function connect(s: FakeSocket, ...frames: (object | string)[]) {
  s.open();
  s.receive(welcome());
  for (const f of frames) s.receive(f);
}

describe("PriceFeedClient: options", () => {
  it("refuses bad options with a clear message", () => {
    const fake = fakeWebSocket();
    expect(() => new PriceFeedClient({ url: "nope", WebSocket: fake.WebSocket })).toThrow(/not a URL/);
    expect(() => new PriceFeedClient({ url: "ftp://x/pricefeed", WebSocket: fake.WebSocket })).toThrow(/ws:\/\//);
    expect(() => new PriceFeedClient({ url: URL_, currencies: ["XYZ"], WebSocket: fake.WebSocket })).toThrow(
      /unsupported currency "XYZ"/,
    );
    expect(() => new PriceFeedClient({ url: URL_, clientId: "a b", WebSocket: fake.WebSocket })).toThrow(/clientId/);
    expect(() => new PriceFeedClient({ url: URL_, from: -1, WebSocket: fake.WebSocket })).toThrow(/from/);
    const { feed } = setup();
    expect(() => feed.subscribe(["nope"])).toThrow(/unsupported currency/);
    expect(() => feed.unsubscribe(["USD", "EUR"])).toThrow(/at least one/);
  });

  it("builds each attempt's URL afresh: currencies, client_id, last_seq with its epoch, else start_timedate", () => {
    const { fake, feed } = setup({ from: 1_764_000_000 });
    feed.start();
    const first = fake.last().query;
    expect(first.get("currencies")).toBe("USD,EUR");
    expect(first.get("start_timedate")).toBe("1764000000");
    expect(first.has("client_id") || first.has("last_seq")).toBe(false);
    connect(fake.last(), price(41, true), { type: "replay_end", count: 1 }, price(42));
    fake.last().drop();
    feed.retryNow();
    const second = fake.last().query;
    expect(Object.fromEntries(second)).toEqual({ currencies: "USD,EUR", client_id: "c1", last_seq: "42", epoch: "e1" });
  });
});

describe("PriceFeedClient: connection states and reconnects", () => {
  it("goes connecting → open → reconnecting (with its retry time) → open → closed", () => {
    const { clock, fake, feed, log } = setup();
    feed.start();
    connect(fake.last(), price(1));
    fake.last().drop();
    clock.advance(500);
    connect(fake.last(), { type: "replay_end", count: 0 }, price(1), price(2));
    feed.close();
    expect(log).toEqual([
      "state connecting",
      "state open",
      "subscribed USD,EUR",
      "price 1",
      "state reconnecting +500",
      "state reconnecting",
      "state open",
      "subscribed USD,EUR",
      "replay 0",
      "price 2",
      "state closed",
    ]);
    expect(fake.sockets).toHaveLength(2);
    expect(fake.last().closedByClient).toEqual({ code: 1000, reason: "closed by the client" });
    expect(clock.pending).toBe(0);
  });

  it("backs off exponentially with full jitter up to the cap, and a stable connection resets it", () => {
    const { clock, fake, feed } = setup({ backoff: { baseMs: 100, maxMs: 1000 } });
    feed.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = clock.now();
      const n = fake.sockets.length;
      fake.last().drop();
      while (fake.sockets.length === n) clock.advance(1);
      delays.push(clock.now() - t0);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    // A connection that lived stableAfterMs (10 s) after its welcome starts the backoff over.
    connect(fake.last());
    clock.advance(10_000);
    const t0 = clock.now();
    fake.last().drop();
    clock.advance(100);
    expect(fake.sockets).toHaveLength(8);
    expect(clock.now() - t0).toBe(100);
    // One that dropped at once does not.
    fake.last().open();
    fake.last().receive(welcome());
    fake.last().drop();
    clock.advance(199);
    expect(fake.sockets).toHaveLength(8);
    clock.advance(1);
    expect(fake.sockets).toHaveLength(9);
  });

  it("full jitter: delays spread uniformly under the exponential ceiling", () => {
    const opts = { baseMs: 500, maxMs: 30_000 };
    expect(backoffCeiling(0, opts)).toBe(500);
    expect(backoffCeiling(3, opts)).toBe(4000);
    expect(backoffCeiling(1e9, opts)).toBe(30_000);
    expect(backoffCeiling(-1, opts)).toBe(500);
    expect(backoffDelay(3, opts, () => 0)).toBe(0);
    expect(backoffDelay(3, opts, () => 0.25)).toBe(1000);
    expect(backoffDelay(3, opts, () => 1)).toBe(4000);
    expect(backoffDelay(3, opts, () => 7)).toBe(4000);
    for (let a = 0; a < 40; a++) {
      const d = backoffDelay(a, opts);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(backoffCeiling(a, opts));
    }
  });

  it("gives up on an attempt with no welcome within connectTimeoutMs (TCP accepted, upgrade never answered)", () => {
    const { clock, fake, feed, log } = setup({ connectTimeoutMs: 3000 });
    feed.start();
    clock.advance(2999);
    expect(fake.last().closedByClient).toBeNull();
    clock.advance(1);
    expect(fake.last().closedByClient).toEqual({ code: 4000, reason: "connect_timeout" });
    expect(log.at(-1)).toBe("state reconnecting +500");
    // Also when the socket opened but the welcome never came.
    clock.advance(500);
    fake.last().open();
    clock.advance(3000);
    expect(fake.last().closedByClient?.reason).toBe("connect_timeout");
    expect(fake.sockets).toHaveLength(2);
    // A late close of the abandoned socket changes nothing.
    fake.sockets[0]!.drop();
    expect(log.filter((l) => l.startsWith("state reconnecting +"))).toHaveLength(2);
  });

  it("sends ping after heartbeatMs without a frame and drops the connection when no frame follows", () => {
    const { clock, fake, feed, log } = setup({ heartbeatMs: 15_000, heartbeatTimeoutMs: 5_000 });
    feed.start();
    const s = fake.last();
    connect(s, price(1));
    clock.advance(10_000);
    s.receive(price(2));
    clock.advance(14_999);
    expect(s.sent).toEqual([]);
    clock.advance(1);
    expect(s.sent).toEqual(["ping"]);
    clock.advance(4_000);
    s.receive("pong");
    clock.advance(14_999);
    expect(s.sent).toEqual(["ping"]);
    clock.advance(1);
    expect(s.sent).toEqual(["ping", "ping"]);
    // No pong now: the connection is dead.
    clock.advance(4_999);
    expect(s.closedByClient).toBeNull();
    clock.advance(1);
    expect(s.closedByClient).toEqual({ code: 4000, reason: "heartbeat_timeout" });
    expect(log.at(-1)).toMatch(/^state reconnecting \+/);
    clock.advance(1000);
    expect(fake.sockets).toHaveLength(2);
    expect(fake.last().query.get("last_seq")).toBe("2");
  });

  it("does not reconnect after close(), and start() resumes where it stopped", () => {
    const idle = setup();
    idle.feed.close();
    expect(idle.log).toEqual([]);
    const { clock, fake, feed } = setup();
    feed.start();
    connect(fake.last(), price(5));
    feed.close();
    fake.last().drop();
    clock.advance(60_000);
    expect(fake.sockets).toHaveLength(1);
    expect(feed.state).toBe("closed");
    feed.start();
    expect(fake.sockets).toHaveLength(2);
    expect(fake.last().query.get("last_seq")).toBe("5");
    expect(feed.state).toBe("connecting");
  });

  it("retries when the WebSocket constructor throws", () => {
    const clock = new FakeClock();
    let n = 0;
    class Throwing {
      constructor() {
        n++;
        throw new Error("boom");
      }
    }
    const feed = new PriceFeedClient({ url: URL_, WebSocket: Throwing, clock, random: () => 1 });
    feed.start();
    clock.advance(500 + 1000 + 2000);
    expect(n).toBe(4);
    feed.close();
    expect(clock.pending).toBe(0);
  });

  it("stops instead of retrying in a loop when the server refuses the client_id (too_many_sockets)", () => {
    const { clock, fake, feed, log } = setup({ clientId: "crowded" });
    feed.on("state", (state, detail) => {
      if (state === "closed") log.push(`reason ${detail.reason}`);
    });
    feed.start();
    fake.last().open();
    fake.last().receive({ type: "error", code: "too_many_sockets", message: "at most 5 sockets per client_id" });
    fake.last().drop(1008);
    clock.advance(120_000);
    expect(log).toEqual(["state connecting", "error too_many_sockets", "state closed", "reason rejected"]);
    expect(fake.sockets).toHaveLength(1);
    expect(feed.state).toBe("closed");
    expect(clock.pending).toBe(0);
    // start() (the page's Open) tries once more, as the same client.
    feed.start();
    expect(fake.sockets).toHaveLength(2);
    expect(fake.last().query.get("client_id")).toBe("crowded");
  });

  it("keeps retrying after an error frame about the moment (unavailable)", () => {
    const { clock, fake, feed, log } = setup();
    feed.start();
    fake.last().open();
    fake.last().receive({ type: "error", code: "unavailable", message: "the feed could not start this connection" });
    fake.last().drop(1011);
    clock.advance(500);
    expect(log).toEqual(["state connecting", "error unavailable", "state reconnecting +500", "state reconnecting"]);
    expect(fake.sockets).toHaveLength(2);
  });
});

describe("PriceFeedClient: heartbeats and stalls", () => {
  it("emits heartbeats; one past lastSeq on a vouched connection is ticks that did not move the feed", () => {
    const { clock, fake, feed, log } = setup();
    const beats: number[] = [];
    feed.on("heartbeat", (b) => beats.push(b.seq));
    feed.start();
    const s = fake.last();
    connect(s, price(1));
    s.receive({ type: "heartbeat", seq: 7, time: new Date(clock.now()).toISOString() });
    expect(beats).toEqual([7]);
    expect(fake.sockets).toHaveLength(1);
    expect(feed.lastSeq).toBe(1);
    expect(log).not.toContain("gap 2-7");
  });

  it("resumes when a heartbeat names seqs past lastSeq that the connection never vouched for", () => {
    const { clock, fake, feed, log } = setup();
    feed.start();
    connect(fake.last(), price(4));
    fake.last().drop();
    clock.advance(1000);
    // A resume answered without its replay (no replay_end, no replayed tick): then a heartbeat at 9.
    const second = fake.last();
    connect(second, { type: "heartbeat", seq: 9, time: new Date(clock.now()).toISOString() });
    expect(second.closedByClient).not.toBeNull();
    expect(log.at(-1)).toMatch(/^state reconnecting/);
    clock.advance(1000);
    const third = fake.last();
    expect(third).not.toBe(second);
    expect(third.query.get("last_seq")).toBe("4");
    connect(third, price(6, true), { type: "replay_end", count: 1 });
    expect(log.slice(-2)).toEqual(["price 6r", "replay 1"]);
  });

  it("reports stalled and reconnects when a server that sends heartbeats goes silent, though pong still comes", () => {
    const { clock, fake, feed } = setup({ heartbeatMs: 15_000, heartbeatTimeoutMs: 5_000 });
    const reasons: (string | null)[] = [];
    feed.on("state", (_s, d) => reasons.push(d.reason));
    feed.start();
    const s = fake.last();
    s.open();
    s.receive(welcome({ heartbeat_s: 30 }));
    s.receive(price(1));
    // Pings are answered: the socket is alive, the feed behind it is not.
    for (let t = 0; t < 60_000; t += 15_000) {
      clock.advance(15_000);
      s.receive("pong");
    }
    expect(s.closedByClient).toBeNull();
    clock.advance(5_000); // 2 × 30 s + the margin since the last frame
    expect(s.closedByClient).not.toBeNull();
    expect(reasons.at(-1)).toBe("stalled");
  });

  it("counts as stalled neither a quiet feed while heartbeats come nor the silence of a server sending none", () => {
    for (const heartbeatS of [30, undefined]) {
      const { clock, fake, feed } = setup();
      feed.start();
      const s = fake.last();
      s.open();
      s.receive(welcome(heartbeatS ? { heartbeat_s: heartbeatS } : {}));
      let pings = 0;
      for (let t = 5_000; t <= 300_000; t += 5_000) {
        clock.advance(5_000);
        if (s.sent.length > pings) {
          pings = s.sent.length;
          s.receive("pong");
        }
        if (heartbeatS && t % (heartbeatS * 1000) === 0) {
          s.receive({ type: "heartbeat", seq: 0, time: new Date(clock.now()).toISOString() });
        }
      }
      expect(s.closedByClient).toBeNull();
      expect(fake.sockets).toHaveLength(1);
    }
  });
});

describe("PriceFeedClient: storage, subscriptions, status", () => {
  it("keeps client_id, last_seq and epoch in the storage given, before the listeners run, and resumes from it", () => {
    const storage = memoryStorage();
    const a = setup({ storage });
    let storedAtEvent: string | null = null;
    a.feed.on("price", () => (storedAtEvent = storage.getItem("btcfeed.last_seq")));
    a.feed.start();
    connect(a.fake.last(), price(7), price(8));
    expect(storedAtEvent).toBe("8");
    expect([
      storage.getItem("btcfeed.client_id"),
      storage.getItem("btcfeed.last_seq"),
      storage.getItem("btcfeed.epoch"),
    ]).toEqual(["c1", "8", "e1"]);
    // A reload: a new client on the same storage resumes.
    const b = setup({ storage });
    expect([b.feed.clientId, b.feed.lastSeq, b.feed.epoch]).toEqual(["c1", 8, "e1"]);
    b.feed.start();
    expect(Object.fromEntries(b.fake.last().query)).toMatchObject({ client_id: "c1", last_seq: "8", epoch: "e1" });
    // Another client_id does not inherit that last_seq.
    const c = setup({ storage, clientId: "other" });
    expect([c.feed.clientId, c.feed.lastSeq]).toEqual(["other", null]);
  });

  it("survives a storage that throws", () => {
    const broken = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("quota");
      },
      removeItem: () => {
        throw new Error("denied");
      },
    };
    const { fake, feed, log } = setup({ storage: broken });
    feed.start();
    connect(fake.last(), price(3));
    expect(log).toContain("price 3");
  });

  it("sends one subscription change at a time and reconciles to what was asked", () => {
    const { fake, feed, log } = setup();
    feed.subscribe(["GBP"]);
    feed.start();
    expect(fake.last().query.get("currencies")).toBe("USD,EUR,GBP");
    const s = fake.last();
    s.open();
    s.receive(welcome({ currencies: ["USD", "EUR", "GBP"] }));
    feed.subscribe(["JPY"]);
    feed.unsubscribe(["EUR"]);
    expect(s.sent.map((f) => JSON.parse(f))).toEqual([{ type: "subscribe", currencies: ["JPY"] }]);
    s.receive({ type: "subscribed", currencies: ["USD", "EUR", "GBP", "JPY"] });
    expect(s.sent.map((f) => JSON.parse(f)).at(-1)).toEqual({ type: "unsubscribe", currencies: ["EUR"] });
    s.receive({ type: "subscribed", currencies: ["USD", "GBP", "JPY"] });
    expect(s.sent).toHaveLength(2);
    expect(feed.currencies).toEqual(["USD", "GBP", "JPY"]);
    expect(log.filter((l) => l.startsWith("subscribed")).at(-1)).toBe("subscribed USD,GBP,JPY");
    // A change asked while the socket was connecting is sent once the welcome shows the old set.
    s.drop();
    feed.unsubscribe(["JPY"]);
    feed.retryNow();
    const t = fake.last();
    expect(t.query.get("currencies")).toBe("USD,GBP");
    t.open();
    t.receive(welcome({ currencies: ["USD", "GBP", "JPY"] }));
    expect(JSON.parse(t.sent[0]!)).toEqual({ type: "unsubscribe", currencies: ["JPY"] });
    expect(subscriptionDiff(["EUR"], ["USD"])).toEqual([
      { type: "subscribe", currencies: ["EUR"] },
      { type: "unsubscribe", currencies: ["USD"] },
    ]);
  });

  it("passes the server's status on once per change, and infers live from a tick newer than the stale mark", () => {
    const { fake, feed, log } = setup();
    feed.start();
    const since = 1_764_000_100;
    connect(
      fake.last(),
      price(1),
      { type: "status", state: "stale", since },
      { type: "status", state: "stale", since },
    );
    expect(feed.status).toEqual({ state: "stale", since });
    // The snapshot on a reconnect is older than the mark: still stale.
    fake.last().drop();
    feed.retryNow();
    connect(fake.last(), { type: "replay_end", count: 0 }, price(2, false, since - 20), {
      type: "status",
      state: "stale",
      since,
    });
    expect(feed.status?.state).toBe("stale");
    fake.last().receive(price(3, false, since + 30));
    expect(feed.status).toEqual({ state: "live" });
    fake.last().receive({ type: "status", state: "live" });
    fake.last().receive({
      type: "status",
      state: "disputed",
      since: since + 60,
      disputes: [{ currency: "USD", quotes: { kraken: 1, coinbase: 2 } }],
    });
    expect(feed.status).toMatchObject({ state: "disputed", disputes: [{ currency: "USD" }] });
    expect(log.filter((l) => l.startsWith("status"))).toEqual(["status stale", "status live", "status disputed"]);
  });

  it("re-confirms a non-live status on each connection: no status frame before its live ticks means live", () => {
    const { fake, feed, log } = setup();
    const disputed = {
      type: "status",
      state: "disputed",
      since: 1_764_000_000,
      disputes: [{ currency: "USD", quotes: { kraken: 1 } }],
    };
    feed.start();
    connect(fake.last(), price(1), disputed);
    // Reconnected while still disputed: the server says so after the snapshot; nothing changes.
    fake.last().drop();
    feed.retryNow();
    connect(fake.last(), { type: "replay_end", count: 0 }, price(2, true), disputed, price(3), price(4));
    expect(feed.status?.state).toBe("disputed");
    // Reconnected after the dispute ended while away: the server says nothing; live ticks mean live.
    fake.last().drop();
    feed.retryNow();
    connect(fake.last(), { type: "replay_end", count: 0 }, price(5));
    expect(feed.status?.state).toBe("disputed");
    fake.last().receive(price(6));
    expect(feed.status).toEqual({ state: "live" });
    expect(log.filter((l) => l.startsWith("status"))).toEqual(["status disputed", "status live"]);
  });

  it("emits reset and restarts its bookkeeping when the server's history changed", () => {
    const { fake, feed, log } = setup();
    feed.start();
    connect(fake.last(), price(500));
    fake.last().drop();
    feed.retryNow();
    const s = fake.last();
    expect(s.query.get("epoch")).toBe("e1");
    s.open();
    s.receive(welcome({ epoch: "e2", resumed: true }));
    s.receive({ type: "reset", epoch: "e2", previous_epoch: "e1", message: "history wiped" });
    s.receive(price(3));
    s.receive(price(4));
    expect(log.filter((l) => /reset|price/.test(l))).toEqual(["price 500", "reset e2", "price 3", "price 4"]);
    expect([feed.lastSeq, feed.epoch]).toEqual([4, "e2"]);
  });

  it("ignores frames it cannot read and pongs, and reports error frames", () => {
    const { fake, feed, log } = setup();
    feed.start();
    connect(
      fake.last(),
      "pong",
      "not json",
      { type: "mystery" },
      { type: "error", code: "too_many_frames", message: "slow down" },
      price(1),
    );
    expect(log.slice(-2)).toEqual(["error too_many_frames", "price 1"]);
    expect(fake.last().readyState).toBe(OPEN);
  });

  it("a listener that throws does not stop the others or the feed", async () => {
    const { fake, feed, log } = setup();
    const errors: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (fn) =>
      original(() => {
        try {
          fn();
        } catch (e) {
          errors.push(e);
        }
      });
    try {
      feed.on("price", () => {
        throw new Error("listener bug");
      });
      feed.start();
      connect(fake.last(), price(1), price(2));
      await Promise.resolve();
      expect(log.filter((l) => l.startsWith("price"))).toEqual(["price 1", "price 2"]);
      expect(errors).toHaveLength(2);
    } finally {
      globalThis.queueMicrotask = original;
    }
  });
});

describe("PriceFeedClient: the protocol version", () => {
  it("follows a server of its major version, whatever the minor, and tells which it speaks", () => {
    const { fake, feed, log } = setup();
    const welcomes: string[] = [];
    feed.on("welcome", (w) => welcomes.push(w.protocol));
    feed.start();
    expect(feed.protocol).toBeNull();
    const s = fake.last();
    s.open();
    s.receive(welcome({ protocol: "1.7" }));
    s.receive(price(1));
    expect([feed.protocol, feed.state, welcomes]).toEqual(["1.7", "open", ["1.7"]]);
    expect(log.at(-1)).toBe("price 1");
    // A server from before the field speaks 1.0.
    s.drop();
    feed.retryNow();
    connect(fake.last(), price(2));
    expect([feed.protocol, feed.state, welcomes]).toEqual(["1.0", "open", ["1.7", "1.0"]]);
  });

  it.each(["2.0", "0.9", "one"])(
    "closes for good at protocol %s, reads none of its frames and keeps the resume point",
    (version) => {
      const storage = memoryStorage();
      storage.setItem("btcfeed.client_id", "c1");
      storage.setItem("btcfeed.last_seq", "5");
      storage.setItem("btcfeed.epoch", "e1");
      const { clock, fake, feed, log } = setup({ storage });
      const events: string[] = [];
      feed.on("welcome", () => events.push("welcome"));
      feed.on("state", (state, detail) => events.push(`${state} ${detail.reason}`));
      feed.start();
      const s = fake.last();
      s.open();
      s.receive(welcome({ protocol: version, epoch: "e9", client_id: "other" }));
      s.receive(price(9));
      expect(events).toEqual(["connecting null", "closed unsupported_protocol"]);
      expect(log.filter((l) => /price|reset|gap/.test(l))).toEqual([]);
      expect(s.closedByClient).toMatchObject({ code: 1000, reason: "unsupported_protocol" });
      expect(feed.protocol).toBe(version);
      clock.advance(10 * 60_000);
      expect(fake.sockets).toHaveLength(1);
      expect([feed.clientId, feed.lastSeq, feed.epoch]).toEqual(["c1", 5, "e1"]);
      expect(["client_id", "last_seq", "epoch"].map((k) => storage.getItem(`btcfeed.${k}`))).toEqual(["c1", "5", "e1"]);
    },
  );
});

import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { FanoutShard } from "../../src/relay/FanoutShard";
import { PROTOCOL_VERSION } from "../../src/protocol";
import { TickTable } from "../../src/storage/tick-table";
import { connect, type FeedClient } from "../support/feed";
import { hub, publishTick, recordOf, registrations, sessionStub, shard, sleep } from "../support/hub";
import { closeAndSettle, expire, visitAndLeave } from "../support/session";

const seqs = (client: FeedClient) => client.prices().map((p) => p.seq);

describe("a live socket", () => {
  it("gets welcome, the latest price at once, then each new price", async () => {
    const first = await publishTick();
    const client = await connect("client_id=live-1&currencies=usd,EUR,usd");
    const [welcome, snapshot] = await client.waitForFrames(2);
    expect(welcome).toEqual({
      type: "welcome",
      client_id: "live-1",
      currencies: ["USD", "EUR"],
      resumed: false,
      interval_ms: 3_600_000,
      epoch: await hub().epoch(),
      protocol: PROTOCOL_VERSION,
      heartbeat_s: 30,
    });
    expect(snapshot).toMatchObject({ type: "price", seq: first.seq, replayed: false, sources: ["test"] });
    expect(Object.keys((snapshot as { prices: object }).prices)).toEqual(["USD", "EUR"]);

    const next = await publishTick();
    await client.waitForFrames(3);
    expect(client.frames[2]).toEqual({
      type: "price",
      seq: next.seq,
      ts: Math.floor(next.tsMs / 1000),
      time: new Date(next.tsMs).toISOString(),
      prices: { USD: next.prices.USD, EUR: next.prices.EUR },
      sources: ["test"],
      replayed: false,
    });
    client.close();
  });

  it("is sent a tick only when one of its currencies changed", async () => {
    const base = await publishTick();
    const usdOnly = await connect("client_id=change-usd&currencies=USD");
    const eur = await connect("client_id=change-eur&currencies=EUR");
    await usdOnly.waitForFrames(2);
    await eur.waitForFrames(2);
    const eurMove = await publishTick({ EUR: (base.prices.EUR ?? 0) + 10 });
    const usdMove = await publishTick({ USD: (base.prices.USD ?? 0) + 10 });
    await usdOnly.waitForFrames(3);
    await eur.waitForFrames(3);
    expect(seqs(usdOnly)).toEqual([base.seq, usdMove.seq]);
    expect(seqs(eur)).toEqual([base.seq, eurMove.seq]);
    usdOnly.close();
    eur.close();
  });

  it("changes currencies with subscribe/unsubscribe and answers bad frames without closing", async () => {
    await publishTick();
    const client = await connect("client_id=subs&currencies=USD");
    await client.waitForFrames(2);
    client.send({ type: "subscribe", currencies: ["gbp", "EUR"] });
    expect(await client.waitFor("subscribed")).toEqual({ type: "subscribed", currencies: ["USD", "GBP", "EUR"] });
    client.send({ type: "unsubscribe", currencies: ["USD"] });
    await client.waitForFrames(4);
    expect(client.frames[3]).toEqual({ type: "subscribed", currencies: ["GBP", "EUR"] });

    const tick = await publishTick();
    await client.waitForFrames(5);
    expect(client.frames[4]).toMatchObject({ seq: tick.seq, prices: { GBP: tick.prices.GBP, EUR: tick.prices.EUR } });
    expect(Object.keys((client.frames[4] as { prices: object }).prices)).toEqual(["GBP", "EUR"]);

    client.send("not json");
    client.send({ type: "subscribe", currencies: ["XYZ"] });
    client.send({ type: "dance" });
    await client.waitForFrames(8);
    expect(client.frames.slice(5).map((f) => (f.type === "error" ? f.code : f.type))).toEqual([
      "invalid_frame",
      "unsupported_currency",
      "unknown_type",
    ]);
    client.send("ping");
    expect(await client.waitFor("pong")).toEqual({ type: "pong" });
    expect(client.closed).toBeNull();
    client.close();
  });

  it("keeps several sockets of one client live; buffering waits for the last to close", async () => {
    await publishTick();
    const a = await connect("client_id=two-tabs");
    const b = await connect("client_id=two-tabs");
    await a.waitForFrames(2);
    await b.waitForFrames(2);
    const t1 = await publishTick();
    await a.waitForFrames(3);
    await b.waitForFrames(3);
    expect(a.frames[2]).toMatchObject({ seq: t1.seq });
    expect(b.frames[2]).toMatchObject({ seq: t1.seq });

    await closeAndSettle(a, 1);
    const t2 = await publishTick();
    await b.waitForFrames(4);
    expect(b.frames[3]).toMatchObject({ seq: t2.seq, replayed: false });
    const buffered = await runInDurableObject(sessionStub("two-tabs"), (_i, state) => {
      const exists = state.storage.sql.exec("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'buffer'").one().n;
      return exists ? state.storage.sql.exec("SELECT COUNT(*) AS n FROM buffer").one().n : 0;
    });
    expect(buffered).toBe(0);
    b.close();
  });

  it("keeps delivering after the object is evicted (hibernation), without repeating a tick", async () => {
    await publishTick();
    const client = await connect("client_id=evicted");
    await client.waitForFrames(2);
    const t1 = await publishTick();
    await client.waitForSeq(t1.seq);
    await evictDurableObject(sessionStub("evicted"), { webSockets: "hibernate" });
    const t2 = await publishTick();
    await client.waitForSeq(t2.seq);
    expect(seqs(client).slice(1)).toEqual([t1.seq, t2.seq]);
    client.send({ type: "subscribe", currencies: ["EUR"] });
    expect(await client.waitFor("subscribed")).toEqual({ type: "subscribed", currencies: ["USD", "EUR"] });

    // Woken again by the close itself: the buffer must start right after t2, not earlier.
    const t3 = await publishTick();
    await client.waitForSeq(t3.seq);
    await evictDurableObject(sessionStub("evicted"), { webSockets: "hibernate" });
    await closeAndSettle(client);
    const missed = await publishTick();
    const again = await connect("client_id=evicted");
    await again.waitFor("replay_end");
    expect(seqs(again)).toEqual([missed.seq]);
    again.close();
  });

  it("fills a missed delivery from its shard's history so no tick is skipped", async () => {
    await publishTick();
    const client = await connect("client_id=gap-fill");
    await client.waitForFrames(2);
    // Its shard forgets it for two ticks, as if deliveries had failed.
    const registered = (await recordOf("gap-fill"))!.shard!;
    await shard(registered).unregister("gap-fill");
    const lost1 = await publishTick();
    const lost2 = await publishTick();
    await shard(registered).register("gap-fill", { via: "record" });
    const t = await publishTick();
    await client.waitForFrames(5);
    expect(seqs(client).slice(1)).toEqual([lost1.seq, lost2.seq, t.seq]);
    client.close();
  });
});

describe("a connection no shard can serve", () => {
  it("is told to reconnect (1011) instead of waiting forever without a welcome", async () => {
    const spy = vi.spyOn(FanoutShard.prototype, "register").mockRejectedValue(new Error("shard down"));
    try {
      const client = await connect("client_id=hub-down");
      expect(await client.waitForClose()).toMatchObject({ code: 1011 });
      expect(client.frames).toEqual([expect.objectContaining({ type: "error", code: "unavailable" })]);
    } finally {
      spy.mockRestore();
    }
    const again = await connect("client_id=hub-down");
    expect((await again.waitForFrames(1))[0]).toMatchObject({ type: "welcome" });
    again.close();
  });
});

describe("reconnecting", () => {
  it("replays exactly the ticks missed while offline, then goes live", async () => {
    await publishTick();
    await visitAndLeave("client_id=resume-1&currencies=USD");
    const missed = [await publishTick(), await publishTick(), await publishTick()];

    const again = await connect("client_id=resume-1");
    await again.waitForFrames(5);
    expect(again.frames[0]).toMatchObject({ type: "welcome", resumed: true, currencies: ["USD"] });
    expect(again.frames.slice(1, 4)).toEqual(
      missed.map((t) =>
        expect.objectContaining({ type: "price", seq: t.seq, replayed: true, prices: { USD: t.prices.USD } }),
      ),
    );
    expect(again.frames[4]).toEqual({ type: "replay_end", count: 3 });
    const live = await publishTick();
    await again.waitForFrames(6);
    expect(again.frames[5]).toMatchObject({ seq: live.seq, replayed: false });
    again.close();
  });

  it("sends replay_end 0 and the snapshot when nothing was missed (replayed: the client may hold it)", async () => {
    const latest = await publishTick();
    await visitAndLeave("client_id=resume-empty");
    const again = await connect("client_id=resume-empty");
    await again.waitForFrames(3);
    expect(again.frames.slice(1)).toEqual([
      { type: "replay_end", count: 0 },
      expect.objectContaining({ type: "price", seq: latest.seq, replayed: true }),
    ]);
    again.close();
  });

  it("resumes exactly after last_seq, from the buffer or from the hub's history", async () => {
    const before = await publishTick();
    const t1 = await publishTick();
    const t2 = await publishTick();
    // A client the server has never seen, that already has everything up to `before`.
    const client = await connect(`client_id=lastseq&last_seq=${before.seq}`);
    await client.waitForFrames(4);
    expect(client.frames[0]).toMatchObject({ resumed: false });
    expect(client.frames.slice(1)).toEqual([
      expect.objectContaining({ seq: t1.seq, replayed: true }),
      expect.objectContaining({ seq: t2.seq, replayed: true }),
      { type: "replay_end", count: 2 },
    ]);
    await closeAndSettle(client);
    const t3 = await publishTick();
    const again = await connect(`client_id=lastseq&last_seq=${t2.seq}`);
    await again.waitForFrames(3);
    expect(again.frames.slice(1)).toEqual([
      expect.objectContaining({ seq: t3.seq, replayed: true }),
      { type: "replay_end", count: 1 },
    ]);
    again.close();
  });

  it("filters by start_timedate, reaching back into the hub's history for a new client", async () => {
    const old = await publishTick();
    await sleep(1100);
    const recent = await publishTick();
    const start = Math.floor(recent.tsMs / 1000);
    expect(Math.floor(old.tsMs / 1000)).toBeLessThan(start);
    const client = await connect(`client_id=start-td&start_timedate=${start}`);
    await client.waitForFrames(3);
    expect(client.frames.slice(1)).toEqual([
      expect.objectContaining({ seq: recent.seq, replayed: true }),
      { type: "replay_end", count: 1 },
    ]);

    // Offline now; a reconnect with a start inside the offline window is served from the buffer.
    await closeAndSettle(client);
    await sleep(1100);
    const missed = await publishTick();
    const again = await connect(`client_id=start-td&start_timedate=${Math.floor(missed.tsMs / 1000)}`);
    await again.waitForFrames(3);
    expect(again.frames.slice(1)).toEqual([
      expect.objectContaining({ seq: missed.seq, replayed: true }),
      { type: "replay_end", count: 1 },
    ]);
    again.close();
  });

  it("neither loses nor repeats a tick that arrives during the replay", async () => {
    await publishTick();
    await visitAndLeave("client_id=mid-replay");
    const missed = [await publishTick(), await publishTick()];
    const [again, during] = await Promise.all([connect("client_id=mid-replay"), publishTick()]);
    const after = await publishTick();
    await again.waitForSeq(after.seq);
    const got = seqs(again);
    expect(got).toEqual(
      [...missed.map((t) => t.seq), during.seq, after.seq].filter((s, i, all) => all.indexOf(s) === i),
    );
    expect(new Set(got).size).toBe(got.length);
    again.close();
  });

  it("loses nothing when the object is hibernated in the middle of a replay: the eviction waits for it", async () => {
    const start = await publishTick();
    await visitAndLeave("client_id=evict-replay");
    const missed = [await publishTick(), await publishTick(), await publishTick()];
    // last_seq before the buffer: the replay comes from the shard, held there until the eviction is asked for.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const real = FanoutShard.prototype.replay;
    const spy = vi.spyOn(FanoutShard.prototype, "replay").mockImplementation(async function (
      this: FanoutShard,
      ...args
    ) {
      await gate;
      return real.apply(this, args);
    });
    let again: FeedClient;
    try {
      again = await connect(`client_id=evict-replay&last_seq=${start.seq - 1}`);
      await again.waitFor("welcome");
      setTimeout(release, 50);
      await evictDurableObject(sessionStub("evict-replay"), { webSockets: "hibernate" });
    } finally {
      spy.mockRestore();
    }
    const live = await publishTick();
    await again.waitForSeq(live.seq);
    expect(again.closed).toBeNull();
    expect(seqs(again)).toEqual([start, ...missed, live].map((t) => t.seq));
    again.close();
  });

  it("survives eviction between the ticks it buffers", async () => {
    await publishTick();
    await visitAndLeave("client_id=evict-buffer");
    const t1 = await publishTick();
    await evictDurableObject(sessionStub("evict-buffer"));
    const t2 = await publishTick();
    await evictDurableObject(sessionStub("evict-buffer"));
    const again = await connect("client_id=evict-buffer");
    await again.waitFor("replay_end");
    expect(seqs(again)).toEqual([t1.seq, t2.seq]);
    expect(again.frames.find((f) => f.type === "replay_end")).toEqual({ type: "replay_end", count: 2 });
    again.close();
  });
});

describe("bounds", () => {
  it("says gap instead of silently skipping ticks the history no longer has", async () => {
    const start = await publishTick();
    const lost = [await publishTick(), await publishTick()];
    const kept = await publishTick();
    // Gone from the history of the shard a new client registers with (the root: this file has few clients).
    await runInDurableObject(shard(), (_i, state) =>
      state.storage.sql.exec("DELETE FROM ticks WHERE seq IN (?, ?)", lost[0]!.seq, lost[1]!.seq),
    );
    const client = await connect(`client_id=gap-told&last_seq=${start.seq}`);
    await client.waitFor("replay_end");
    expect(client.frames.slice(1)).toEqual([
      { type: "gap", from_seq: lost[0]!.seq, to_seq: lost[1]!.seq },
      expect.objectContaining({ type: "price", seq: kept.seq, replayed: true }),
      { type: "replay_end", count: 1 },
    ]);
    client.close();
  });

  it("keeps the newest ticks when the offline buffer overflows, and reports the dropped range", async () => {
    await runInDurableObject(sessionStub("buffer-bound"), (_i, state) => {
      const table = new TickTable(state.storage.sql, "buffer");
      for (let seq = 1; seq <= 7; seq++)
        table.insert({ seq, tsMs: seq, prices: { USD: seq }, changed: ["USD"], sources: [] });
      expect(table.trimTo(5)).toEqual({ fromSeq: 1, toSeq: 2 });
      expect(table.after(0, 100)).toEqual({ ticks: expect.any(Array), gap: { fromSeq: 1, toSeq: 2 } });
      expect(table.after(0, 100).ticks.map((t) => t.seq)).toEqual([3, 4, 5, 6, 7]);
      expect(table.trimTo(5)).toBeNull();
    });
  });
});

describe("expiry", () => {
  it("purges the session and leaves its shard when the client stays away", async () => {
    await publishTick();
    await visitAndLeave("client_id=expire-me");
    expect((await registrations()).get("expire-me")).toHaveLength(1);
    await publishTick();
    const stub = sessionStub("expire-me");
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();
    // An alarm before the TTL is over purges nothing.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.kv.get("session"))).toBeDefined();
    expect(await expire("expire-me")).toBe(true);

    const left = await runInDurableObject(stub, (_i, state) => ({
      kv: [...state.storage.kv.list()].length,
      tables: state.storage.sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'")
        .toArray(),
      alarm: state.storage.getAlarm(),
    }));
    expect(left.kv).toBe(0);
    expect(left.tables).toEqual([]);
    expect(await left.alarm).toBeNull();
    expect((await registrations()).has("expire-me")).toBe(false);

    // Coming back after expiry is a fresh start.
    const again = await connect("client_id=expire-me");
    await again.waitForFrames(2);
    expect(again.frames[0]).toMatchObject({ resumed: false });
    expect(again.frames[1]).toMatchObject({ type: "price", replayed: false });
    again.close();
  });

  it("a reconnect registers with its shard once, a second tab not at all, and neither asks the hub", async () => {
    await publishTick();
    const spy = vi.spyOn(FanoutShard.prototype, "register");
    const asked = () => spy.mock.calls.filter(([id]) => id === "known-client").length;
    const hubCalls = async () => (await hub().health()).hub_calls;
    const before = await hubCalls();
    try {
      const first = await connect("client_id=known-client");
      await first.waitForFrames(2);
      // One lookup (a call, or more where the tree has split).
      const lookups = asked();
      expect(lookups).toBeGreaterThan(0);
      const secondTab = await connect("client_id=known-client");
      await secondTab.waitForFrames(2);
      expect(asked()).toBe(lookups);
      await closeAndSettle(secondTab, 1);
      await closeAndSettle(first);
      const missed = await publishTick();

      const again = await connect("client_id=known-client");
      await again.waitFor("replay_end");
      expect(again.frames[0]).toMatchObject({ type: "welcome", resumed: true, interval_ms: expect.any(Number) });
      expect(again.prices().map((p) => p.seq)).toEqual([missed.seq]);
      // Straight to the shard its record names.
      expect(asked()).toBe(lookups + 1);
      const live = await publishTick();
      await again.waitForSeq(live.seq);
      const after = await hubCalls();
      // Only the test's own publishing and reading reached the hub.
      expect(Object.keys(after).filter((m) => after[m] !== before[m] && m !== "health")).toEqual([]);
      again.close();
    } finally {
      spy.mockRestore();
    }
  });

  it("a reconnect that races the purge gets back on its shard's list and stays live", async () => {
    await publishTick();
    await visitAndLeave("client_id=race-purge");

    // Hold the purge inside its unregister call while the client comes back.
    let entered!: () => void;
    const inUnsubscribe = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const realUnregister = FanoutShard.prototype.unregister;
    const spy = vi.spyOn(FanoutShard.prototype, "unregister").mockImplementation(async function (
      this: FanoutShard,
      id,
    ) {
      entered();
      await gate;
      return realUnregister.call(this, id);
    });
    try {
      const purge = expire("race-purge");
      await inUnsubscribe;
      const again = await connect("client_id=race-purge");
      release();
      expect(await purge).toBe(true);
      await again.waitFor("welcome");
      const t = await publishTick();
      await again.waitForSeq(t.seq);
      expect(again.frames[0]).toMatchObject({ resumed: true });
      again.close();
    } finally {
      spy.mockRestore();
    }
  });

  it("a reconnect before the deadline cancels the purge; while connected the alarm only renews its lease", async () => {
    await publishTick();
    await visitAndLeave("client_id=come-back");
    const stub = sessionStub("come-back");
    const alarmAt = () => runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    const purgeAt = await alarmAt();
    expect(purgeAt).not.toBeNull();
    const again = await connect("client_id=come-back");
    await again.waitFor("replay_end");
    // The purge alarm still fires when it was due, finds the socket and only renews the lease.
    expect(await expire("come-back")).toBe(true);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.kv.get("session"))).toBeDefined();
    expect(await alarmAt()).toBeGreaterThan(purgeAt!);
    const before = again.frames.length;
    const t = await publishTick();
    await again.waitForFrames(before + 1);
    expect(again.frames.at(-1)).toMatchObject({ seq: t.seq });
    again.close();
  });
});

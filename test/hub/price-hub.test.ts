import {
  createExecutionContext,
  createScheduledController,
  env,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { ClientSession } from "../../src/session/ClientSession";
import { PriceHub } from "../../src/hub/PriceHub";
import { FanoutRelay } from "../../src/relay/FanoutRelay";
import worker from "../../src/index";
import { readConfig } from "../../src/config";
import { TickTable } from "../../src/storage/tick-table";
import { nextTick } from "../../src/hub/publish";
import { hashClientId } from "../../src/relay/partition";
import { connect } from "../support/feed";
import { hub, publishTick, sessionStub, sleep } from "../support/hub";
import { loggedEvents } from "../support/logs";

/** The object's id, for fault injection aimed at one instance of a class. */
const idOf = (instance: object) => (instance as unknown as { ctx: DurableObjectState }).ctx.id;

/** `count` live clients, and a publish that fans a moved USD price out through three relays. */
async function clientsBehindThreeRelays(prefix: string, count: number, relayTimeoutMs?: number) {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const clients = await Promise.all(ids.map((id) => connect(`client_id=${id}`)));
  await Promise.all(clients.map((c) => c.waitForFrames(2)));
  const config = { ...readConfig(env), fanoutRelays: 3, ...(relayTimeoutMs ? { relayTimeoutMs } : {}) };
  const publishViaRelays = () =>
    runInDurableObject(hub(), (instance) => {
      const usd = 80_000 + Math.random() * 1000;
      return instance.publish({ USD: Math.round(usd * 100) / 100 }, ["test"], {}, config);
    });
  return { ids, clients, publishViaRelays };
}

describe("nextTick (publish only on change)", () => {
  const prev = { seq: 4, tsMs: 1, prices: { USD: 100, EUR: 90 }, changed: ["USD" as const], sources: ["a"] };

  it("publishes nothing when no price changed", () => {
    expect(nextTick(prev, { USD: 100, EUR: 90 }, ["a"], 5, 2)).toBeNull();
    expect(nextTick(prev, { USD: 100 }, ["a"], 5, 2)).toBeNull();
  });

  it("publishes the changed currencies and keeps the others' last price and sources", () => {
    expect(nextTick(prev, { EUR: 91 }, ["kraken", "coinbase"], 5, 2)).toEqual({
      seq: 5,
      tsMs: 2,
      prices: { USD: 100, EUR: 91 },
      changed: ["EUR"],
      sources: ["coinbase", "kraken"],
      currencySources: { USD: ["a"] },
    });
  });

  it("names a currency's sources only where they differ from the tick's", () => {
    const tick = nextTick(null, { USD: 100, JPY: 15_000 }, ["bitstamp", "kraken"], 1, 2, {
      USD: ["kraken", "bitstamp"],
      JPY: ["kraken"],
    });
    expect(tick).toMatchObject({ sources: ["bitstamp", "kraken"], currencySources: { JPY: ["kraken"] } });
    const same = nextTick(null, { USD: 100 }, ["kraken"], 1, 2, { USD: ["kraken"] });
    expect(same).not.toHaveProperty("currencySources");
    // Carried over: JPY keeps the sources it came from; USD now has what the tick has.
    expect(nextTick(tick, { USD: 101 }, ["bitstamp", "kraken"], 2, 3)?.currencySources).toEqual({ JPY: ["kraken"] });
    expect(nextTick(tick, { JPY: 15_001 }, ["coinbase", "kraken"], 2, 3)?.currencySources).toEqual({
      USD: ["bitstamp", "kraken"],
    });
  });

  it("publishes the first tick whatever it says", () => {
    expect(nextTick(null, { USD: 1 }, ["a"], 1, 2)?.changed).toEqual(["USD"]);
  });
});

describe("TickTable", () => {
  it("adds the per-currency sources column to a table stored before it existed, keeping its rows", async () => {
    await runInDurableObject(sessionStub("old-buffer"), (_i, state) => {
      state.storage.sql.exec(
        "CREATE TABLE buffer (seq INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, prices TEXT NOT NULL, changed TEXT NOT NULL, sources TEXT NOT NULL)",
      );
      state.storage.sql.exec("INSERT INTO buffer VALUES (1, 1, '{\"USD\":1}', '[\"USD\"]', '[\"a\"]')");
      const table = new TickTable(state.storage.sql, "buffer");
      const newer = {
        seq: 2,
        tsMs: 2,
        prices: { USD: 1, JPY: 150 },
        changed: ["JPY" as const],
        sources: ["a"],
        currencySources: { JPY: ["b"] },
      };
      table.insert(newer);
      expect(table.after(0, 10).ticks).toEqual([
        { seq: 1, tsMs: 1, prices: { USD: 1 }, changed: ["USD"], sources: ["a"] },
        newer,
      ]);
    });
  });
});

describe("PriceHub", () => {
  it("gives each tick seq + 1, never reused across a restart, and keeps it in history", async () => {
    const a = await publishTick();
    expect(await hub().publish({ USD: a.prices.USD!, EUR: a.prices.EUR!, GBP: a.prices.GBP! }, ["test"])).toBeNull();
    await evictDurableObject(hub());
    const b = await publishTick();
    expect(b.seq).toBe(a.seq + 1);

    // Even with the history pruned to nothing, seq goes on from where it was.
    await runInDurableObject(hub(), (_i, state) => state.storage.sql.exec("DELETE FROM ticks"));
    await evictDurableObject(hub());
    const c = await publishTick();
    expect(c.seq).toBe(b.seq + 1);
    const page = await hub().ticksAfter(b.seq, 10);
    expect(page.ticks.map((t) => t.seq)).toEqual([c.seq]);
    expect(page.gap).toBeNull();
  });

  it("serves history by time for one currency", async () => {
    const t = await publishTick();
    const page = await hub().historyPage("GBP", t.tsMs - 1, t.tsMs + 1, 0, 100);
    expect(JSON.parse(page.points).at(-1)).toMatchObject({ seq: t.seq, price: t.prices.GBP });
  });

  it("drops history older than HISTORY_RETENTION_S", async () => {
    const old = await publishTick();
    await runInDurableObject(hub(), (_i, state) =>
      state.storage.sql.exec("UPDATE ticks SET ts_ms = ? WHERE seq = ?", old.tsMs - 90_000_000, old.seq),
    );
    await publishTick();
    const left = await runInDurableObject(
      hub(),
      (_i, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM ticks WHERE seq = ?", old.seq).one().n,
    );
    expect(left).toBe(0);
  });

  it("forgets subscribers whose session has expired", async () => {
    await hub().subscribe("ghost-client"); // no session behind it
    await publishTick();
    const n = await runInDurableObject(
      hub(),
      (_i, state) =>
        state.storage.sql.exec("SELECT COUNT(*) AS n FROM subscribers WHERE client_id = ?", "ghost-client").one().n,
    );
    expect(n).toBe(0);
  });

  it("is re-armed by the cron watchdog when its alarm is gone, and left alone when armed", async () => {
    const alarm = () => runInDurableObject(hub(), (_i, state) => state.storage.getAlarm());
    await runInDurableObject(hub(), (_i, state) => state.storage.deleteAlarm());
    expect(await alarm()).toBeNull();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    // The watchdog arms the loop at once; the loop polls and re-arms itself one interval later.
    let next: number | null = null;
    for (let i = 0; i < 100 && !(next && next > Date.now() + 60_000); i++) {
      await sleep(20);
      next = await alarm();
    }
    expect(next).toBeGreaterThan(Date.now() + 60_000);

    expect(await hub().ensureRunning()).toBe(false);
    expect(await alarm()).toBe(next);
  });

  it("is not re-armed by a subscriber arriving while its alarm runs (the alarm is unset then)", async () => {
    const alarm = () => runInDurableObject(hub(), (_i, state) => state.storage.getAlarm());
    await runInDurableObject(hub(), (_i, state) => state.storage.setAlarm(Date.now() + 60_000));
    let duringPoll: { alarm: number | null; rearmed: boolean } | null = null;
    const spy = vi.spyOn(PriceHub.prototype, "pollAndPublish").mockImplementation(async function (this: PriceHub) {
      const alarmThen = await (this as unknown as { ctx: DurableObjectState }).ctx.storage.getAlarm();
      duringPoll = { alarm: alarmThen, rearmed: await this.ensureRunning() };
      return null;
    });
    const started = Date.now();
    expect(await runDurableObjectAlarm(hub())).toBe(true);
    spy.mockRestore();
    expect(duringPoll).toEqual({ alarm: null, rearmed: false });
    // The loop re-armed itself one interval on, not "now".
    expect(await alarm()).toBeGreaterThanOrEqual(started + readConfig(env).pollIntervalMs);
  });

  it("fans out through relays without losing or repeating a tick, even when a relay fails", async () => {
    await publishTick();
    const { clients, publishViaRelays: publishVia } = await clientsBehindThreeRelays("relay-client", 12);

    const t1 = (await publishVia())!;
    // Relay 1 breaks for one tick: its clients catch up on the next one.
    const relay1 = env.FANOUT_RELAY.idFromName("relay-1");
    const realRelay = FanoutRelay.prototype.relay;
    const spy = vi.spyOn(FanoutRelay.prototype, "relay").mockImplementation(async function (
      this: FanoutRelay,
      ...args
    ) {
      if (idOf(this).equals(relay1)) throw new Error("relay down");
      return realRelay.apply(this, args);
    });
    const t2 = (await publishVia())!;
    spy.mockRestore();
    const health = await hub().health();
    expect(health.last_fanout).toMatchObject({ relays: 3, seq: t2.seq });
    const behind = health.last_fanout!.failed;
    expect(behind).toBeGreaterThan(1);
    // On the next tick the group that missed t2 fills its hole with one history read on the hub,
    // made by its relay for all of them, not one per session.
    const reads = vi.spyOn(PriceHub.prototype, "ticksAfter");
    const t3 = (await publishVia())!;
    expect(reads).toHaveBeenCalledTimes(1);
    expect(reads.mock.calls[0]![0]).toBe(t1.seq);
    reads.mockRestore();

    await Promise.all(clients.map((c) => c.waitForFrames(5)));
    for (const c of clients) {
      expect(
        c
          .prices()
          .map((p) => p.seq)
          .slice(1),
      ).toEqual([t1.seq, t2.seq, t3.seq]);
    }
    for (const c of clients) c.close();
  });

  it("does not wait for a relay that never answers: the poll ends at the deadline and counts that group failed", async () => {
    await publishTick();
    const { ids, clients, publishViaRelays: publishVia } = await clientsBehindThreeRelays("hung-relay-client", 12, 200);
    const hung = env.FANOUT_RELAY.idFromName("relay-1");
    const subscribers = await runInDurableObject(hub(), (_i, state) =>
      state.storage.sql
        .exec<{ client_id: string }>("SELECT client_id FROM subscribers")
        .toArray()
        .map((r) => r.client_id),
    );
    const hungGroup = subscribers.filter((id) => hashClientId(id) % 3 === 1);
    expect(ids.filter((id) => hashClientId(id) % 3 === 1).length).toBeGreaterThan(0);
    let wake: () => void = () => {};
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const realRelay = FanoutRelay.prototype.relay;
    const spy = vi.spyOn(FanoutRelay.prototype, "relay").mockImplementation(async function (
      this: FanoutRelay,
      ...args
    ) {
      if (idOf(this).equals(hung)) {
        await woken; // hangs until the test is over
        return { delivered: 0, failed: 0, gone: [] };
      }
      return realRelay.apply(this, args);
    });
    const t1 = (await publishVia())!; // returns: the poll is not stalled by relay-1
    spy.mockRestore();
    expect((await hub().health()).last_fanout).toMatchObject({
      seq: t1.seq,
      relays: 3,
      failed: hungGroup.length,
      delivered: subscribers.length - hungGroup.length,
    });
    expect(loggedEvents("relays_failed")).toEqual([expect.objectContaining({ relays: [1], of: 3 })]);

    // The hung relay's clients fill the hole from history with the next tick.
    const t2 = (await publishVia())!;
    await Promise.all(clients.map((c) => c.waitForSeq(t2.seq)));
    for (const c of clients)
      expect(
        c
          .prices()
          .map((p) => p.seq)
          .slice(1),
      ).toEqual([t1.seq, t2.seq]);
    wake();
    for (const c of clients) c.close();
  });

  it("routes each subscriber through its own relay, and an unsubscribed client leaves its relay", async () => {
    await publishTick();
    const { ids, clients, publishViaRelays: publishVia } = await clientsBehindThreeRelays("routed-client", 9);
    const relayOf = (id: string) => env.FANOUT_RELAY.idFromName(`relay-${hashClientId(id) % 3}`);

    const batches: { relay: DurableObjectId; clientIds: string[] }[] = [];
    const realRelay = FanoutRelay.prototype.relay;
    const spy = vi.spyOn(FanoutRelay.prototype, "relay").mockImplementation(async function (
      this: FanoutRelay,
      event,
      clientIds,
    ) {
      batches.push({ relay: idOf(this), clientIds: [...clientIds] });
      return realRelay.call(this, event, clientIds);
    });
    const batchOf = (id: string) => batches.filter((b) => b.clientIds.includes(id));

    await publishVia();
    for (const id of ids) {
      const found = batchOf(id);
      expect(found).toHaveLength(1);
      expect(found[0]!.relay.equals(relayOf(id))).toBe(true);
    }

    const leaving = ids[4]!;
    await hub().unsubscribe(leaving);
    batches.length = 0;
    await publishVia();
    expect(batchOf(leaving)).toHaveLength(0);
    for (const id of ids.filter((i) => i !== leaving)) expect(batchOf(id)).toHaveLength(1);

    await hub().subscribe(leaving);
    batches.length = 0;
    await publishVia();
    expect(batchOf(leaving).map((b) => b.relay.equals(relayOf(leaving)))).toEqual([true]);
    spy.mockRestore();
    for (const c of clients) c.close();
  });

  it("keeps delivering to the others when one client object fails", async () => {
    await publishTick();
    const good = await connect("client_id=fine-client");
    const bad = await connect("client_id=broken-client");
    await good.waitForFrames(2);
    await bad.waitForFrames(2);
    const broken = env.CLIENT_SESSION.idFromName("broken-client");
    const realReceive = ClientSession.prototype.receive;
    const spy = vi.spyOn(ClientSession.prototype, "receive").mockImplementation(async function (
      this: ClientSession,
      ...args
    ) {
      if (idOf(this).equals(broken)) throw new Error("session broken");
      return realReceive.apply(this, args);
    });
    const t = await publishTick();
    spy.mockRestore();
    await good.waitForFrames(3);
    expect(good.frames[2]).toMatchObject({ seq: t.seq });
    expect((await hub().health()).last_fanout).toMatchObject({ seq: t.seq, failed: 1 });
    good.close();
    bad.close();
  });
});

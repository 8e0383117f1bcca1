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
import worker from "../../src/index";
import { readConfig } from "../../src/config";
import { TickTable } from "../../src/storage/tick-table";
import { nextTick } from "../../src/hub/publish";
import { connect } from "../support/feed";
import { hub, publishTick, sessionStub, settledHub, sleep } from "../support/hub";
import { decodeEvent } from "../../src/relay/event-wire";

/** The object's id, for fault injection aimed at one instance of a class. */
const idOf = (instance: object) => (instance as unknown as { ctx: DurableObjectState }).ctx.id;

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
        "CREATE TABLE buffer (seq INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, " +
          "prices TEXT NOT NULL, changed TEXT NOT NULL, sources TEXT NOT NULL)",
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
    const page = await hub().copyPage(b.seq, 10);
    expect(page.ticks.map((t) => t.seq)).toEqual([c.seq]);
    expect(page.from.headSeq).toBe(c.seq);
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

  it("is not re-armed by a call arriving while its alarm runs (the alarm is unset then)", async () => {
    const alarm = () => runInDurableObject(hub(), (_i, state) => state.storage.getAlarm());
    await runInDurableObject(hub(), (_i, state) => state.storage.setAlarm(Date.now() + 60_000));
    let duringPoll: { alarm: number | null; rearmed: boolean } | null = null;
    // The poll itself (private): while it runs, the root shard asks the hub to keep running.
    const polling = PriceHub.prototype as unknown as { poll: () => Promise<unknown> };
    const spy = vi.spyOn(polling, "poll").mockImplementation(async function (this: PriceHub) {
      const alarmThen = await (this as unknown as { ctx: DurableObjectState }).ctx.storage.getAlarm();
      duringPoll = { alarm: alarmThen, rearmed: await this.ensureRunning() };
      return { tick: null, fanout: Promise.resolve() };
    });
    const started = Date.now();
    expect(await runDurableObjectAlarm(hub())).toBe(true);
    spy.mockRestore();
    expect(duringPoll).toEqual({ alarm: null, rearmed: false });
    // The loop re-armed itself one interval on, not "now".
    expect(await alarm()).toBeGreaterThanOrEqual(started + readConfig(env).pollIntervalMs);
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

  it("commits the seq, the tick and its own state together: a write that fails leaves none of them", async () => {
    const before = await publishTick();
    const failed = await runInDurableObject(hub(), async (instance, state) => {
      const kv = state.storage.kv;
      const put = kv.put.bind(kv);
      kv.put = ((key: string, value: unknown) => {
        if (key === "hub") throw new Error("disk full");
        return put(key, value);
      }) as typeof kv.put;
      try {
        await instance.publish({ USD: 1234.5 }, ["test"]);
        return false;
      } catch {
        return true;
      } finally {
        kv.put = put;
      }
    });
    expect(failed).toBe(true);
    // The next tick takes the seq the failed one would have had, and is the one kept under it.
    const next = await publishTick();
    expect(next.seq).toBe(before.seq + 1);
    expect((await hub().copyPage(before.seq, 10)).ticks).toEqual([next]);
  });

  it("starts the next poll on time while a session hangs: the loop never waits for a fan-out", async () => {
    await settledHub();
    await publishTick();
    const client = await connect("client_id=hung-session");
    await client.waitForFrames(2);
    const hung = env.CLIENT_SESSION.idFromName("hung-session");
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    const realReceive = ClientSession.prototype.receive;
    const receiveSpy = vi.spyOn(ClientSession.prototype, "receive").mockImplementation(async function (
      this: ClientSession,
      ...args
    ) {
      if (idOf(this).equals(hung) && decodeEvent(args[0]).kind === "tick") {
        held++;
        await gate;
      }
      return realReceive.apply(this, args);
    });
    // Each poll "finds" a new price; the rest of the alarm (recording, fan-out, re-arming) is the real one.
    let usd = 60_000;
    const hubInternals = PriceHub.prototype as unknown as { poll: () => unknown; record: (...a: unknown[]) => unknown };
    const pollSpy = vi.spyOn(hubInternals, "poll").mockImplementation(function (this: typeof hubInternals) {
      usd += 10;
      return Promise.resolve(this.record({ USD: usd }, ["test"], {}, readConfig(env)));
    });
    try {
      const started = Date.now();
      expect(await runDurableObjectAlarm(hub())).toBe(true);
      // The poll is over and the next one armed while the session still holds its tick.
      for (let i = 0; i < 200 && held === 0; i++) await sleep(10);
      expect(held).toBe(1);
      const next = await runInDurableObject(hub(), (_i, state) => state.storage.getAlarm());
      expect(next).toBeGreaterThanOrEqual(started + readConfig(env).pollIntervalMs);
      // A second poll goes out too, the first still unanswered.
      expect(await runDurableObjectAlarm(hub())).toBe(true);
      for (let i = 0; i < 200 && held < 2; i++) await sleep(10);
      expect(held).toBe(2);
    } finally {
      release();
      receiveSpy.mockRestore();
      pollSpy.mockRestore();
    }
    // Released, the session has both prices, in order, once each.
    for (let i = 0; i < 200 && client.prices().at(-1)?.prices.USD !== usd; i++) await sleep(10);
    const seqs = client.prices().map((p) => p.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    expect(
      client
        .prices()
        .slice(-2)
        .map((p) => p.prices.USD),
    ).toEqual([usd - 10, usd]);
    client.close();
  });

  it("counts the calls it serves by method in /health, HTTP reads included", async () => {
    await publishTick();
    const before = (await hub().health()).hub_calls;
    await hub().snapshot();
    await hub().historyPage("USD", 0, Date.now(), 0, 10);
    await hub().copyPage(0, 10);
    const after = (await hub().health()).hub_calls;
    expect(after.snapshot).toBe((before.snapshot ?? 0) + 1);
    expect(after.historyPage).toBe((before.historyPage ?? 0) + 1);
    expect(after.copyPage).toBe((before.copyPage ?? 0) + 1);
    expect(after.health).toBe((before.health ?? 0) + 1);
    for (const n of Object.values(after)) expect(typeof n).toBe("number");
  });
});

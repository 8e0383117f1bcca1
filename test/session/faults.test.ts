/**
 * The resume promise where it breaks: restarts (eviction with the sockets closed: no close event,
 * memory and attachments gone), shard calls that fail halfway, sockets that drop mid-replay, and a
 * purge racing a fan-out. Each test names the path it guards.
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { readConfig } from "../../src/config";
import { describe, expect, it, vi } from "vitest";
import { FanoutShard } from "../../src/relay/FanoutShard";
import { ClientSession } from "../../src/session/ClientSession";
import type { SessionRecord } from "../../src/session/session-state";
import { connect, type FeedClient } from "../support/feed";
import { hub, publishTick, recordOf, registrations, sessionStub, shard, sleep } from "../support/hub";
import { closeAndSettle, expire, visitAndLeave } from "../support/session";

const seqs = (client: FeedClient) => client.prices().map((p) => p.seq);
const restart = (clientId: string) => evictDurableObject(sessionStub(clientId), { webSockets: "close" });
const alarmOf = (clientId: string) =>
  runInDurableObject(sessionStub(clientId), (_i, state) => state.storage.getAlarm());
/** Ticks in the session's offline buffer (0 when it never made the table). */
const bufferedOf = (clientId: string) =>
  runInDurableObject(sessionStub(clientId), (_i, state) => {
    const sql = state.storage.sql;
    const made = sql.exec("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = ?", "buffer").one().n;
    return made ? Number(sql.exec("SELECT COUNT(*) AS n FROM buffer").one().n) : 0;
  });
/** How many shards list the client (0 once it is purged, 1 while it is served). */
const subscribed = async (clientId: string) => (await registrations()).get(clientId)?.length ?? 0;

/**
 * Holds every registration (which carries a reconnect's replay) until released. The test polls a flag
 * rather than awaiting a promise the shard resolves: a continuation would run in the shard's I/O
 * context, not the test's.
 */
function gateReplays() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered = false;
  const real = FanoutShard.prototype.register;
  const spy = vi.spyOn(FanoutShard.prototype, "register").mockImplementation(async function (
    this: FanoutShard,
    ...args
  ) {
    entered = true;
    await gate;
    return real.apply(this, args);
  });
  const inside = async () => {
    while (!entered) await sleep(5);
  };
  return { inside, release, restore: () => spy.mockRestore() };
}

describe("a restart (the runtime drops every socket; no close event)", () => {
  it("a plain reconnect gets each tick since the last durable mark replayed with its seq: no silent hole", async () => {
    await publishTick();
    const client = await connect("client_id=restart-plain&currencies=USD");
    await client.waitForFrames(2);
    const seen = [await publishTick(), await publishTick()];
    await client.waitForSeq(seen[1]!.seq);
    await restart("restart-plain");
    await client.waitForClose();
    const missed = [await publishTick(), await publishTick(), await publishTick()];
    // Back from a restart, the session keeps none of them: its replay reads the shard's history.
    expect(await bufferedOf("restart-plain")).toBe(0);

    const again = await connect("client_id=restart-plain");
    await again.waitFor("replay_end");
    const replayed = again.prices();
    // The ticks the client may have seen come again, marked replayed with their seq; none is missing.
    expect(replayed.every((p) => p.replayed)).toBe(true);
    expect(seqs(again)).toEqual([...seen, ...missed].map((t) => t.seq));
    expect(again.frames.some((f) => f.type === "gap")).toBe(false);
    const live = await publishTick();
    await again.waitForSeq(live.seq);
    expect(again.prices().at(-1)).toMatchObject({ seq: live.seq, replayed: false });
    again.close();
  });

  it("parks a session back from a restart: its shard sends nothing until it reconnects, then all again", async () => {
    await publishTick();
    const client = await connect("client_id=restart-parked&currencies=USD");
    await client.waitForFrames(2);
    const seen = await publishTick();
    await client.waitForSeq(seen.seq);
    await restart("restart-parked");
    await client.waitForClose();

    const session = sessionStub("restart-parked").id;
    const realReceive = ClientSession.prototype.receive;
    let received = 0;
    const spy = vi.spyOn(ClientSession.prototype, "receive").mockImplementation(async function (
      this: ClientSession,
      event,
    ) {
      if ((this as unknown as { ctx: DurableObjectState }).ctx.id.equals(session)) received++;
      return realReceive.call(this, event);
    });
    let missed: Awaited<ReturnType<typeof publishTick>>[];
    try {
      // The first tick wakes it and hears `parked`; the next ones are not sent to it at all.
      missed = [await publishTick(), await publishTick(), await publishTick()];
      expect(received).toBe(1);
      expect((await hub().health()).last_fanout?.parked).toBeGreaterThanOrEqual(1);
    } finally {
      spy.mockRestore();
    }

    const again = await connect("client_id=restart-parked");
    await again.waitFor("replay_end");
    expect(seqs(again)).toEqual([seen, ...missed].map((t) => t.seq));
    // Registered again: it gets the next tick live.
    const live = await publishTick();
    await again.waitForSeq(live.seq);
    expect(again.prices().at(-1)).toMatchObject({ seq: live.seq, replayed: false });
    again.close();
  });

  it("a plain reconnect before any new tick still replays what was sent after the last durable mark", async () => {
    await publishTick();
    const client = await connect("client_id=restart-quiet");
    await client.waitForFrames(2);
    const seen = await publishTick();
    await client.waitForSeq(seen.seq);
    await restart("restart-quiet");
    await client.waitForClose();

    const again = await connect("client_id=restart-quiet");
    await again.waitFor("replay_end");
    expect(again.prices()).toEqual([expect.objectContaining({ seq: seen.seq, replayed: true })]);
    again.close();
  });

  it("a client back from a restart with last_seq at the head gets no tick twice, and the latest price", async () => {
    await publishTick();
    const client = await connect("client_id=restart-held&currencies=USD");
    await client.waitForFrames(2);
    // Ticks past the session's last durable mark: the client has them, the session's storage does not.
    const seen = [await publishTick(), await publishTick(), await publishTick()];
    await client.waitForSeq(seen[2]!.seq);
    await restart("restart-held");
    await client.waitForClose();

    const again = await connect(`client_id=restart-held&last_seq=${seen[2]!.seq}&epoch=${await hub().epoch()}`);
    await again.waitFor("replay_end");
    const live = await publishTick();
    await again.waitForSeq(live.seq);
    expect(again.prices()).toEqual([
      // The price to show on resume is the newest the client holds, marked replayed.
      expect.objectContaining({ seq: seen[2]!.seq, replayed: true }),
      expect.objectContaining({ seq: live.seq, replayed: false }),
    ]);
    // A resume by last_seq part-way: the rest is replayed, and nothing comes twice after it.
    await restart("restart-held");
    await again.waitForClose();
    const missed = await publishTick();
    const third = await connect(`client_id=restart-held&last_seq=${live.seq - 1}&epoch=${await hub().epoch()}`);
    await third.waitFor("replay_end");
    const next = await publishTick();
    await third.waitForSeq(next.seq);
    expect(third.prices().map((p) => [p.seq, p.replayed])).toEqual([
      [live.seq, true],
      [missed.seq, true],
      [next.seq, false],
    ]);
    third.close();
  });

  it("a session whose client never returns goes offline, keeps an alarm, and is purged and unsubscribed", async () => {
    await publishTick();
    const client = await connect("client_id=restart-ghost");
    await client.waitForFrames(2);
    await restart("restart-ghost");
    await client.waitForClose();
    // Even with no tick to wake it, its alarm (the lease) is set.
    expect(await alarmOf("restart-ghost")).not.toBeNull();
    await publishTick(); // wakes it: it goes offline and buffers
    expect((await recordOf("restart-ghost"))?.link).toMatchObject({ state: "offline" });
    expect(await alarmOf("restart-ghost")).not.toBeNull();

    expect(await expire("restart-ghost")).toBe(true);
    expect(await recordOf("restart-ghost")).toBeNull();
    expect(await subscribed("restart-ghost")).toBe(0);
  });

  it("a ghost with no tick at all is found by its lease alarm", async () => {
    await publishTick();
    const client = await connect("client_id=lease-ghost");
    await client.waitForFrames(2);
    await restart("lease-ghost");
    await client.waitForClose();
    expect(await expire("lease-ghost")).toBe(true);
    expect(await recordOf("lease-ghost")).toBeNull();
    expect(await subscribed("lease-ghost")).toBe(0);
  });
});

describe("a shard call that fails halfway through a connect", () => {
  it("leaves the session with its purge alarm, so it is still forgotten in time", async () => {
    const start = await publishTick();
    await visitAndLeave("client_id=replay-fails");
    await publishTick();
    const spy = vi.spyOn(FanoutShard.prototype, "register").mockRejectedValue(new Error("shard down"));
    try {
      // last_seq before the buffer: the replay must come from the shard, which fails.
      const client = await connect(`client_id=replay-fails&last_seq=${start.seq - 1}`);
      expect(await client.waitForClose()).toMatchObject({ code: 1011 });
    } finally {
      spy.mockRestore();
    }
    await sleep(20);
    expect(await alarmOf("replay-fails")).not.toBeNull();
    expect(await expire("replay-fails")).toBe(true);
    expect(await recordOf("replay-fails")).toBeNull();
  });
});

describe("a socket that drops during its replay", () => {
  it("keeps the buffer: the next reconnect gets the ticks it could not be sent", async () => {
    const start = await publishTick();
    await visitAndLeave("client_id=drop-mid-replay");
    const missed = [await publishTick(), await publishTick()];
    const gate = gateReplays();
    try {
      const client = await connect(`client_id=drop-mid-replay&last_seq=${start.seq - 1}`);
      await gate.inside();
      client.close();
      await client.waitForClose();
      await sleep(20);
      gate.release();
      await sleep(50);
    } finally {
      gate.restore();
    }
    const again = await connect("client_id=drop-mid-replay");
    await again.waitFor("replay_end");
    expect(seqs(again)).toEqual(missed.map((t) => t.seq));
    again.close();
  });

  it("a restart in the middle of a replay: the replay completes or is sent again, never lost", async () => {
    const start = await publishTick();
    await visitAndLeave("client_id=restart-mid-replay");
    const missed = [await publishTick(), await publishTick(), await publishTick()];
    const gate = gateReplays();
    let client: FeedClient;
    try {
      // last_seq before the buffer: the replay comes from the shard, where the gate holds it.
      client = await connect(`client_id=restart-mid-replay&last_seq=${start.seq - 1}`);
      await gate.inside();
      // The eviction waits for the replay in flight, then closes the socket without a close event.
      setTimeout(gate.release, 50);
      await restart("restart-mid-replay");
    } finally {
      gate.restore();
    }
    await client.waitForClose();
    expect(seqs(client)).toEqual([start, ...missed].map((t) => t.seq));
    const whileAway = await publishTick();
    const again = await connect("client_id=restart-mid-replay");
    await again.waitFor("replay_end");
    const live = await publishTick();
    await again.waitForSeq(live.seq);
    // Whatever the client may have been sent comes again only marked replayed; nothing is missing.
    expect(new Set([...seqs(client), ...seqs(again)])).toEqual(
      new Set([start, ...missed, whileAway, live].map((t) => t.seq)),
    );
    expect(
      again
        .prices()
        .filter((p) => !p.replayed)
        .map((p) => p.seq),
    ).toEqual([live.seq]);
    expect(again.prices().find((p) => p.seq === whileAway.seq)).toMatchObject({ replayed: true });
    again.close();
  });
});

describe("the offline buffer's bound", () => {
  it("keeps the newest MAX_BUFFER ticks and tells the client the dropped range with a gap frame", async () => {
    await publishTick();
    await visitAndLeave("client_id=overflow");
    await runInDurableObject(sessionStub("overflow"), (instance) => {
      const self = instance as unknown as { env: Env };
      self.env = { ...self.env, MAX_BUFFER: "2" };
    });
    const missed = [await publishTick(), await publishTick(), await publishTick(), await publishTick()];
    const again = await connect("client_id=overflow");
    await again.waitFor("replay_end");
    expect(again.frames.slice(1)).toEqual([
      { type: "gap", from_seq: missed[0]!.seq, to_seq: missed[1]!.seq },
      expect.objectContaining({ type: "price", seq: missed[2]!.seq, replayed: true }),
      expect.objectContaining({ type: "price", seq: missed[3]!.seq, replayed: true }),
      { type: "replay_end", count: 2 },
    ]);
    again.close();
  });
});

describe("the shards' member lists", () => {
  it("keeps a client that was purged and subscribed again while a fan-out ran", async () => {
    await publishTick();
    const client = await connect("client_id=resubscribed");
    await client.waitForFrames(2);
    const session = sessionStub("resubscribed").id;
    const realReceive = ClientSession.prototype.receive;
    const spy = vi.spyOn(ClientSession.prototype, "receive").mockImplementation(async function (
      this: ClientSession,
      event,
    ) {
      if (!(this as unknown as { ctx: DurableObjectState }).ctx.id.equals(session))
        return realReceive.call(this, event);
      // Purged and back during this delivery: the answer the fan-out gets is from the purged one.
      const [where] = (await registrations()).get("resubscribed")!;
      await shard(where).unregister("resubscribed");
      await shard(where).register("resubscribed", { via: "record" });
      return { subscribed: false };
    });
    try {
      await publishTick();
    } finally {
      spy.mockRestore();
    }
    expect(await subscribed("resubscribed")).toBe(1);
    const t = await publishTick();
    await client.waitForSeq(t.seq);
    client.close();
  });

  it("converges to the sessions that are not purged", async () => {
    await publishTick();
    const stay = await connect("client_id=converge-stay");
    const leave = await connect("client_id=converge-leave");
    await stay.waitForFrames(2);
    await leave.waitForFrames(2);
    await restart("converge-leave");
    await leave.waitForClose();
    await publishTick();
    await expire("converge-leave");
    await publishTick();
    expect(await subscribed("converge-stay")).toBe(1);
    expect(await subscribed("converge-leave")).toBe(0);
    const health = await hub().health();
    expect(health.subscribers).toBe(health.last_fanout!.delivered);
    expect(health.last_fanout!.failed).toBe(0);
    stay.close();
  });
});

describe("epochs", () => {
  it("never replays by a last_seq from another history: one reset frame, then the latest price", async () => {
    const latest = await publishTick();
    const client = await connect(`client_id=epoch-foreign&last_seq=${latest.seq - 1}&epoch=another-history`);
    await client.waitForFrames(4);
    const epoch = await hub().epoch();
    expect(client.frames).toEqual([
      expect.objectContaining({ type: "welcome", epoch }),
      expect.objectContaining({ type: "reset", epoch, previous_epoch: "another-history" }),
      { type: "replay_end", count: 0 },
      expect.objectContaining({ type: "price", seq: latest.seq, replayed: false }),
    ]);
    client.close();
  });

  it("replays by last_seq when the epoch matches", async () => {
    const before = await publishTick();
    const after = await publishTick();
    const client = await connect(`client_id=epoch-same&last_seq=${before.seq}&epoch=${await hub().epoch()}`);
    await client.waitFor("replay_end");
    expect(client.prices()).toEqual([expect.objectContaining({ seq: after.seq, replayed: true })]);
    client.close();
  });

  it("a history replaced under a live client (seq restarting) is announced, and the new ticks flow", async () => {
    await publishTick();
    const client = await connect("client_id=epoch-live");
    await client.waitForFrames(2);
    const away = await connect("client_id=epoch-away");
    await away.waitForFrames(2);
    await closeAndSettle(away);
    const oldEpoch = await hub().epoch();
    // A new history, seq numbering from 1 again (what wiping the hub's history does), subscribers kept.
    await runInDurableObject(hub(), (_i, state) => {
      state.storage.sql.exec("DELETE FROM ticks");
      state.storage.kv.put("epoch", "replaced-history");
      state.storage.kv.put("hub", { ...state.storage.kv.get<object>("hub"), lastSeq: 0 });
    });
    const before = client.frames.length;
    const first = await publishTick();
    expect(first.seq).toBe(1);
    await client.waitForFrames(before + 2);
    expect(client.frames.slice(before)).toEqual([
      expect.objectContaining({ type: "reset", epoch: "replaced-history", previous_epoch: oldEpoch }),
      expect.objectContaining({ type: "price", seq: 1, replayed: false }),
    ]);

    // The absent client is told on its next socket, then gets the new history's ticks.
    const back = await connect("client_id=epoch-away");
    await back.waitFor("replay_end");
    expect(back.frames.slice(0, 2)).toEqual([
      expect.objectContaining({ type: "welcome", epoch: "replaced-history" }),
      expect.objectContaining({ type: "reset", previous_epoch: oldEpoch }),
    ]);
    expect(seqs(back)).toEqual([1]);
    client.close();
    back.close();
  });
});

describe("loss paths inside a session", () => {
  it("a tick that finds every socket closing (close not yet handled) is buffered, not counted as sent", async () => {
    await publishTick();
    const client = await connect("client_id=closing-socket");
    await client.waitForFrames(2);
    // A tick the session has not had: its shard forgets it for one publish.
    const [where] = (await registrations()).get("closing-socket")!;
    await shard(where).unregister("closing-socket");
    const tick = await publishTick();
    const { from } = await hub().copyPage(tick.seq - 1, 1);
    await runInDurableObject(sessionStub("closing-socket"), async (instance, state) => {
      // The socket closes; its close event has not run when the tick is routed.
      for (const ws of state.getWebSockets()) ws.close(1000, "bye");
      await instance.receive({ kind: "tick", tick, epoch: from.epoch });
    });
    await client.waitForClose();
    await sleep(30);
    const again = await connect("client_id=closing-socket");
    await again.waitFor("replay_end");
    expect(seqs(again)).toContain(tick.seq);
    again.close();
  });

  it("a buffered tick whose write fails is not counted handled: the next delivery fills it in", async () => {
    await publishTick();
    await visitAndLeave("client_id=write-fails");
    const restore = await runInDurableObject(sessionStub("write-fails"), (_i, state) => {
      const kv = state.storage.kv;
      const put = kv.put.bind(kv);
      let failed = false;
      kv.put = ((key: string, value: unknown) => {
        if (key === "session" && !failed) {
          failed = true;
          throw new Error("disk full");
        }
        return put(key, value);
      }) as typeof kv.put;
      return () => {
        kv.put = put;
      };
    });
    const lost = await publishTick(); // its write fails: the session answers with an error
    void restore;
    const next = await publishTick(); // a hole before it: filled from the shard's copy
    const again = await connect("client_id=write-fails");
    await again.waitFor("replay_end");
    expect(seqs(again)).toEqual([lost.seq, next.seq]);
    expect(again.frames.some((f) => f.type === "gap")).toBe(false);
    again.close();
  });

  it("a new client of a history emptied while seq went on starts at its head: no false gap", async () => {
    const real = await publishTick();
    // Another source kind starts a new history (no tick yet); seq goes on from the last one.
    await runInDurableObject(hub(), (instance) =>
      instance.publish({}, [], {}, { ...readConfig(env), priceSources: ["simulated"] }),
    );
    const client = await connect("client_id=empty-history");
    await client.waitFor("welcome");
    const first = (await runInDurableObject(hub(), (instance) =>
      instance.publish({ USD: 64_000 }, ["simulated"], {}, { ...readConfig(env), priceSources: ["simulated"] }),
    ))!;
    expect(first.seq).toBe(real.seq + 1);
    await client.waitForSeq(first.seq);
    expect(client.frames.filter((f) => f.type === "gap")).toEqual([]);
    client.close();
  });
});

describe("gaps in a replay", () => {
  it("are told where they lie among the buffered ticks, each on its own: none covers a tick that follows", async () => {
    await publishTick();
    await visitAndLeave("client_id=two-gaps");
    const ticks = [await publishTick(), await publishTick(), await publishTick(), await publishTick()];
    // Two separate holes in what the session holds: the second and the fourth tick are lost.
    await runInDurableObject(sessionStub("two-gaps"), (instance, state) => {
      const [, second, , fourth] = ticks.map((t) => t.seq);
      state.storage.sql.exec("DELETE FROM buffer WHERE seq IN (?, ?)", second!, fourth!);
      const record = state.storage.kv.get<SessionRecord>("session")!;
      if (record.link.state !== "offline") throw new Error("not offline");
      const gaps = [
        { fromSeq: second!, toSeq: second! },
        { fromSeq: fourth!, toSeq: fourth! },
      ];
      state.storage.kv.put("session", { ...record, link: { ...record.link, gaps } });
      (instance as unknown as { cached: unknown }).cached = undefined;
    });
    const again = await connect("client_id=two-gaps");
    await again.waitFor("replay_end");
    const [first, second, third, fourth] = ticks.map((t) => t.seq);
    expect(again.frames.slice(1, 6)).toEqual([
      expect.objectContaining({ type: "price", seq: first }),
      { type: "gap", from_seq: second, to_seq: second },
      expect.objectContaining({ type: "price", seq: third }),
      { type: "gap", from_seq: fourth, to_seq: fourth },
      { type: "replay_end", count: 2 },
    ]);
    again.close();
  });
});

/**
 * The fan-out tree against the real objects (the tests' FANOUT_CHUNK is 16, so a few dozen clients make
 * it split): growth, redirects, holes filled from a parent's copy, the hub left out of every path that
 * grows with clients, and healing after any object but a session loses its storage.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { ShardAck } from "../../src/contracts";
import { readLayout } from "../../src/relay/shard-layout";
import { StubCache } from "../../src/relay/stub-cache";
import { isOnPath } from "../../src/relay/topology";
import { connect, type FeedClient } from "../support/feed";
import { hub, publishTick, registrations, sessionStub, shard, sleep, wipe } from "../support/hub";

const unique = () => Math.random().toString(36).slice(2, 8);

async function clients(prefix: string, count: number, query = ""): Promise<{ ids: string[]; feeds: FeedClient[] }> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}-${unique()}`);
  const feeds = await Promise.all(ids.map((id) => connect(`client_id=${id}${query}`)));
  await Promise.all(feeds.map((f) => f.waitFor("price", 20_000)));
  return { ids, feeds };
}

const seqsOf = (feed: FeedClient) => feed.prices().map((p) => p.seq);

/** Every listed shard of the tree, root first. */
async function treeShards(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (prefix: string): Promise<void> => {
    out.push(prefix);
    const layout = await runInDurableObject(shard(prefix), (_i, state) => readLayout(state.storage.kv));
    for (const digit of layout.children) await walk(prefix + digit);
  };
  await walk("");
  return out;
}

/** Waits until no shard is handing members down any more (a split runs after the registration that caused it). */
async function settledTree(): Promise<Map<string, string[]>> {
  for (let i = 0; i < 100; i++) {
    const listed = await registrations();
    const stillSplitting = await Promise.all(
      [...new Set([...listed.values()].flat())].map((prefix) =>
        runInDurableObject(shard(prefix), (_i, state) => readLayout(state.storage.kv).split),
      ),
    );
    if (!stillSplitting.some(Boolean)) return listed;
    await sleep(20);
  }
  throw new Error("the tree never settled");
}

describe("the fan-out tree", () => {
  it("grows past FANOUT_CHUNK, lists each client once on its path, and delivers every tick once while it splits", async () => {
    const first = await publishTick();
    const ticking = (async () => {
      const seqs = [first.seq];
      for (let i = 0; i < 6; i++) {
        seqs.push((await publishTick()).seq);
        await sleep(30);
      }
      return seqs;
    })();
    const { ids, feeds } = await clients("grow", 40);
    const published = await ticking;
    const last = (await publishTick()).seq;
    published.push(last);
    await Promise.all(feeds.map((f) => f.waitForSeq(last, 10_000)));

    for (const feed of feeds) {
      const seqs = seqsOf(feed);
      // Its first price (the snapshot or a replay), then every tick published after it, once each, in order.
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs).toEqual(published.filter((s) => s >= seqs[0]!));
    }
    const listed = await settledTree();
    const layout = await runInDurableObject(shard(), (_i, state) => readLayout(state.storage.kv));
    expect(layout.split).toBe(true);
    expect(layout.children.length).toBeGreaterThan(1);
    for (const id of ids) {
      const where = listed.get(id)!;
      expect(where).toHaveLength(1);
      expect(where[0]).not.toBe("");
      expect(isOnPath(where[0]!, id)).toBe(true);
    }
    expect((await hub().health()).last_fanout).toMatchObject({ seq: last, failed: 0, depth: 1 });
    for (const feed of feeds) feed.close();
  }, 60_000);

  it("fills a child that missed an event from its parent's copy, without asking the hub", async () => {
    const { feeds } = await clients("hole", 20);
    await settledTree();
    const before = (await hub().health()).hub_calls;
    // The next delivery to one child is lost on the way (the fault is on the sender's side of the stub).
    let lost: string | null = null;
    const realBatch = StubCache.prototype.batch;
    const spy = vi.spyOn(StubCache.prototype, "batch").mockImplementation(function (this: StubCache<unknown>, names) {
      const stubs = realBatch.call(this, names);
      return stubs.map((stub, i) => {
        if (lost !== null || !/^[0-9a-f]+$/.test(names[i]!)) return stub;
        lost = names[i]!;
        return { deliver: (): Promise<ShardAck> => Promise.reject(new Error("lost on the way")) };
      });
    });
    const missed = await publishTick();
    spy.mockRestore();
    expect(lost).not.toBeNull();
    const next = await publishTick();
    await Promise.all(feeds.map((f) => f.waitForSeq(next.seq, 10_000)));
    for (const feed of feeds) expect(seqsOf(feed).slice(-2)).toEqual([missed.seq, next.seq]);
    const after = (await hub().health()).hub_calls;
    expect(after.copyPage ?? 0).toBe(before.copyPage ?? 0);
    for (const feed of feeds) feed.close();
  }, 60_000);

  it("costs the hub nothing per client: many new clients, then all of them back after a restart", async () => {
    await publishTick();
    const calls = async () => {
      const c = (await hub().health()).hub_calls;
      // What the test itself asks: its /health reads; publishTick is not a hub call the clients cause.
      return Object.entries(c)
        .filter(([method]) => method !== "health")
        .reduce((n, [, v]) => n + v, 0);
    };
    const before = await calls();
    const { ids, feeds } = await clients("many", 120);
    const afterConnects = await calls();
    // Shards created by the splits fill their copies from their parents; the root from the hub, once.
    expect(afterConnects - before).toBeLessThanOrEqual(2);

    for (const id of ids) {
      await runInDurableObject(sessionStub(id), () => {});
      await evictDurableObject(sessionStub(id), { webSockets: "close" });
    }
    await Promise.all(feeds.map((f) => f.waitForClose()));
    const missed = await publishTick();
    const back = await Promise.all(ids.map((id) => connect(`client_id=${id}`)));
    await Promise.all(back.map((f) => f.waitForSeq(missed.seq, 20_000)));
    expect(await calls()).toBe(afterConnects);
    for (const f of back) f.close();
  }, 120_000);
});

describe("healing", () => {
  it("a hub that lost its storage starts a new epoch: live clients are told and get its prices", async () => {
    await publishTick();
    const { feeds } = await clients("hub-wiped", 3);
    const oldEpoch = await hub().epoch();
    await wipe(hub());
    const first = await publishTick();
    expect(first.seq).toBe(1);
    const newEpoch = await hub().epoch();
    expect(newEpoch).not.toBe(oldEpoch);
    for (const feed of feeds) {
      await feed.waitForSeq(1);
      const reset = feed.frames.find((f) => f.type === "reset");
      expect(reset).toMatchObject({ epoch: newEpoch, previous_epoch: oldEpoch });
      expect(feed.frames.indexOf(reset!)).toBeLessThan(feed.frames.findIndex((f) => f.type === "price" && f.seq === 1));
    }
    for (const feed of feeds) feed.close();
  });

  it("everything but the sessions wiped, the server restarted: every reconnect gets fresh prices, and reset when it sent its epoch", async () => {
    await publishTick();
    const { ids, feeds } = await clients("drill", 6);
    const t = await publishTick();
    await Promise.all(feeds.map((f) => f.waitForSeq(t.seq)));
    const oldEpoch = await hub().epoch();

    for (const prefix of await treeShards()) await wipe(shard(prefix));
    await wipe(hub());
    for (const id of ids) {
      await runInDurableObject(sessionStub(id), () => {});
      await evictDurableObject(sessionStub(id), { webSockets: "close" });
    }
    await Promise.all(feeds.map((f) => f.waitForClose()));

    const queries = ids.map((id, i) =>
      i < 2
        ? `client_id=${id}`
        : i < 4
          ? `client_id=${id}&last_seq=${t.seq}`
          : `client_id=${id}&last_seq=${t.seq}&epoch=${oldEpoch}`,
    );
    const back = await Promise.all(queries.map((q) => connect(q)));
    await Promise.all(back.map((f) => f.waitFor("welcome")));
    const newEpoch = await hub().epoch();
    expect(newEpoch).not.toBe(oldEpoch);
    // Two polls with moving prices: each reconnected client has both.
    const fresh = [await publishTick(), await publishTick()];
    for (const [i, feed] of back.entries()) {
      await feed.waitForSeq(fresh[1]!.seq, 10_000);
      expect(seqsOf(feed)).toEqual(expect.arrayContaining(fresh.map((f) => f.seq)));
      expect(feed.frames[0]).toMatchObject({ type: "welcome", epoch: newEpoch });
      const reset = feed.frames.find((f) => f.type === "reset");
      if (i >= 4) expect(reset).toMatchObject({ epoch: newEpoch, previous_epoch: oldEpoch });
    }
    for (const feed of back) feed.close();
  }, 60_000);

  it("a shard that lost its storage hears from its children again at their watchdog", async () => {
    const { feeds } = await clients("root-wiped", 24);
    await settledTree();
    const children = (await treeShards()).filter((prefix) => prefix.length === 1);
    expect(children.length).toBeGreaterThan(1);
    await wipe(shard());
    const lost = await publishTick();
    // The root kept nobody: the clients heard nothing of that tick.
    await sleep(50);
    for (const feed of feeds) expect(seqsOf(feed)).not.toContain(lost.seq);
    // The children's watchdogs find their parent silent (its events stopped) and announce themselves.
    for (const child of children) {
      await runInDurableObject(shard(child), (instance) => {
        (instance as unknown as { lastEventAtMs: number }).lastEventAtMs = 0;
      });
      await runDurableObjectAlarm(shard(child));
    }
    expect((await runInDurableObject(shard(), (_i, state) => readLayout(state.storage.kv))).children.sort()).toEqual(
      children.map((c) => c.slice(-1)).sort(),
    );
    const next = await publishTick();
    await Promise.all(feeds.map((f) => f.waitForSeq(next.seq, 10_000)));
    for (const feed of feeds) expect(seqsOf(feed).slice(-2)).toEqual([lost.seq, next.seq]);
    for (const feed of feeds) feed.close();
  }, 60_000);

  it("a leaf that lost its storage gets its connected sessions back at their lease, with what they missed", async () => {
    const { ids, feeds } = await clients("leaf-wiped", 3);
    await settledTree();
    const leaves = new Set((await registrations()).get(ids[0]!) ?? []);
    const [leaf] = [...leaves];
    await wipe(shard(leaf));
    const missed = await publishTick();
    await sleep(50);
    // A lease passes: each connected session registers again, and is caught up in the same call.
    for (const id of ids) await runDurableObjectAlarm(sessionStub(id));
    const next = await publishTick();
    await Promise.all(feeds.map((f) => f.waitForSeq(next.seq, 10_000)));
    for (const feed of feeds) expect(seqsOf(feed)).toEqual(expect.arrayContaining([missed.seq, next.seq]));
    for (const feed of feeds) expect(new Set(seqsOf(feed)).size).toBe(seqsOf(feed).length);
    for (const feed of feeds) feed.close();
  }, 60_000);
});

/**
 * The fan-out tree against the real objects (the tests' FANOUT_CHUNK is 16, so a few dozen clients make
 * it split): growth, redirects, and holes filled from a parent's copy.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { ShardAck } from "../../src/contracts";
import { readLayout } from "../../src/relay/shard-layout";
import { StubCache } from "../../src/relay/stub-cache";
import { isOnPath } from "../../src/relay/topology";
import { hub, publishTick, shard, sleep } from "../support/hub";
import { clients, seqsOf, settledTree } from "../support/tree";

describe("the fan-out tree", () => {
  it("grows past FANOUT_CHUNK, lists each client once on its path, sends every tick once while splitting", async () => {
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
    await publishTick();
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
});

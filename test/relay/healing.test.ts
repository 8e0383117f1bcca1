/**
 * Healing: any object but a session may lose its storage (the hub, a shard, a leaf, or all of them with
 * the server restarted), and every client hears again, told of a new epoch where there is one.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readLayout } from "../../src/relay/shard-layout";
import { connect } from "../support/feed";
import { hub, publishTick, registrations, sessionStub, shard, sleep, wipe } from "../support/hub";
import { clients, seqsOf, settledTree, treeShards } from "../support/tree";

describe("healing", () => {
  it("a hub that lost its storage starts a new epoch: live clients are told and get its prices", {
    timeout: 60_000,
  }, async () => {
    await publishTick();
    const { feeds } = await clients("hub-wiped", 3);
    const oldEpoch = await hub().epoch();
    await wipe(hub());
    const first = await publishTick();
    expect(first.seq).toBe(1);
    const newEpoch = await hub().epoch();
    expect(newEpoch).not.toBe(oldEpoch);
    for (const feed of feeds) {
      const reset = await feed.waitFor("reset");
      expect(reset).toMatchObject({ epoch: newEpoch, previous_epoch: oldEpoch });
      // The new epoch's seq 1 comes after the reset (the old epoch may have had a seq 1 too).
      const newPrices = () => feed.frames.slice(feed.frames.indexOf(reset)).filter((f) => f.type === "price");
      for (let i = 0; i < 200 && newPrices().length === 0; i++) await sleep(10);
      expect(newPrices()[0]).toMatchObject({ seq: first.seq, replayed: false });
    }
    for (const feed of feeds) feed.close();
  });

  it("everything but the sessions wiped, the server restarted: " +
    "every reconnect gets fresh prices, and reset when it sent its epoch", async () => {
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

  it("a leaf that lost its storage regains its connected sessions at their lease, with what they missed", async () => {
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

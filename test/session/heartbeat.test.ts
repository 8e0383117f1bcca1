/**
 * Heartbeats: a socket sent nothing for HEARTBEAT_S hears that the feed is alive, with the head seq,
 * in a quiet market (the shard's beat) and when only other currencies move (the session's own count).
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Connections } from "../../src/session/connections";
import { beatDue, heartbeatDue } from "../../src/session/heartbeat";
import { connect, type FeedClient, type Frame } from "../support/feed";
import { hub, publishTick, sessionStub, shard, sleep } from "../support/hub";

const HEARTBEAT_S = Number(env.HEARTBEAT_S ?? 30);
const heartbeats = (feed: FeedClient) =>
  feed.frames.filter((f): f is Extract<Frame, { type: "heartbeat" }> => f.type === "heartbeat");

/** A poll in which nothing moved: the hub sends a beat down the tree. */
async function quietPoll() {
  const latest = await publishTick();
  await hub().publish(latest.prices, ["test"]);
  return latest;
}

/** Makes the tree's shards think their members last heard something HEARTBEAT_S ago. */
async function quietFor(prefixes: string[]) {
  for (const prefix of prefixes) {
    await runInDurableObject(shard(prefix), (instance) => {
      (instance as unknown as { lastToMembersAtMs: number }).lastToMembersAtMs = Date.now() - HEARTBEAT_S * 1000;
    });
  }
}

/** Makes a session's sockets look as if they were last sent something HEARTBEAT_S ago. */
async function socketsQuietFor(clientId: string) {
  // Through the session's own Connections, which keeps the attachments it wrote in memory.
  await runInDurableObject(sessionStub(clientId), (instance, state) => {
    const connections = (instance as unknown as { connections: Connections }).connections;
    for (const ws of state.getWebSockets()) connections.update(ws, { lastSentAtMs: Date.now() - HEARTBEAT_S * 1000 });
  });
}

async function waitForHeartbeats(feed: FeedClient, count: number) {
  for (let i = 0; i < 500 && heartbeats(feed).length < count; i++) await sleep(10);
  return heartbeats(feed);
}

describe("heartbeatDue", () => {
  it("is due once a socket was sent nothing for HEARTBEAT_S seconds, counted from its connect at first", () => {
    expect(heartbeatDue({ connectedAtMs: 0 }, 29_999, 30)).toBe(false);
    expect(heartbeatDue({ connectedAtMs: 0 }, 30_000, 30)).toBe(true);
    expect(heartbeatDue({ connectedAtMs: 0, lastSentAtMs: 20_000 }, 30_000, 30)).toBe(false);
    expect(heartbeatDue({ connectedAtMs: 0, lastSentAtMs: 20_000 }, 50_000, 30)).toBe(true);
  });

  it("on the shard's beat, allows for the shard's clock running a delivery ahead; not right after a price", () => {
    expect(beatDue({ connectedAtMs: 0, lastSentAtMs: 100 }, 30_000, 30)).toBe(true);
    expect(beatDue({ connectedAtMs: 0, lastSentAtMs: 29_000 }, 30_000, 30)).toBe(false);
  });
});

describe("heartbeats on the socket", () => {
  it("a quiet market: every socket hears a heartbeat with the head seq once its shard was quiet enough", async () => {
    await publishTick();
    const a = await connect("client_id=hb-quiet-a&currencies=USD");
    const b = await connect("client_id=hb-quiet-b&currencies=EUR,JPY");
    await Promise.all([a.waitForFrames(2), b.waitForFrames(2)]);
    expect((await a.waitFor("welcome")).heartbeat_s).toBe(HEARTBEAT_S);

    // A beat the shard does not pass on: its members heard from it within HEARTBEAT_S.
    const head = await quietPoll();
    await a.waitForSeq(head.seq);
    // Then a quiet HEARTBEAT_S: the next beat reaches both, naming the head.
    await quietFor([""]);
    await socketsQuietFor("hb-quiet-a");
    await socketsQuietFor("hb-quiet-b");
    await hub().publish(head.prices, ["test"]);
    for (const feed of [a, b]) {
      const [beat] = await waitForHeartbeats(feed, 1);
      expect(beat).toMatchObject({ type: "heartbeat", seq: head.seq });
      expect(Date.parse(beat!.time)).not.toBeNaN();
    }
    const moved = await publishTick();
    await a.waitForSeq(moved.seq);
    await b.waitForSeq(moved.seq);
    expect([heartbeats(a).length, heartbeats(b).length]).toEqual([1, 1]);
    a.close();
    b.close();
  });

  it("a socket whose currencies stay still hears a heartbeat while others get prices; a moving one none", async () => {
    await publishTick();
    const usd = await connect("client_id=hb-moving&currencies=USD");
    const jpy = await connect("client_id=hb-still&currencies=JPY");
    await Promise.all([usd.waitForFrames(1), jpy.waitForFrames(1)]);
    await publishTick(); // USD, EUR and GBP move; JPY does not
    await socketsQuietFor("hb-still");
    await socketsQuietFor("hb-moving");
    const tick = await publishTick();
    await usd.waitForSeq(tick.seq);
    const [beat] = await waitForHeartbeats(jpy, 1);
    expect(beat).toMatchObject({ seq: tick.seq });
    // Only one: the heartbeat counts as something sent.
    const next = await publishTick();
    await usd.waitForSeq(next.seq);
    expect(heartbeats(jpy)).toHaveLength(1);
    expect(heartbeats(usd)).toEqual([]);
    usd.close();
    jpy.close();
  });

  it("a beat that reaches a socket just sent something (a catch-up, a closed hole) brings no heartbeat", async () => {
    await publishTick();
    const feed = await connect("client_id=hb-just-sent&currencies=USD");
    await feed.waitForFrames(2);
    const head = await quietPoll();
    await feed.waitForSeq(head.seq);
    await quietFor([""]); // the shard passes the beat on; the socket heard a price a moment ago
    await hub().publish(head.prices, ["test"]);
    await socketsQuietFor("hb-just-sent"); // a barrier: the session has handled the beat by now
    expect(heartbeats(feed)).toEqual([]);
    // The next beat, once the socket was quiet too, does bring one.
    await quietFor([""]);
    await hub().publish(head.prices, ["test"]);
    const [beat] = await waitForHeartbeats(feed, 1);
    expect(beat).toMatchObject({ seq: head.seq });
    feed.close();
  });

  it("goes on after a restart of the session: the new socket hears heartbeats too", async () => {
    await publishTick();
    const before = await connect("client_id=hb-restart&currencies=USD");
    await before.waitForFrames(2);
    await evictDurableObject(sessionStub("hb-restart"), { webSockets: "close" });
    const after = await connect("client_id=hb-restart&currencies=USD");
    await after.waitFor("welcome");
    const last = await quietPoll();
    await after.waitForSeq(last.seq);
    await quietFor([""]);
    await socketsQuietFor("hb-restart");
    await hub().publish(last.prices, ["test"]);
    const [beat] = await waitForHeartbeats(after, 1);
    expect(beat).toMatchObject({ seq: last.seq });
    after.close();
  });
});

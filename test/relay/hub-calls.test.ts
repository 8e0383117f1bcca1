/**
 * The hub out of every path that grows with clients: new clients, and all of them back after a restart,
 * cost it nothing but the root's first fill (a file of its own: its 120 sessions stay out of the others).
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { PriceHub } from "../../src/hub/PriceHub";
import { connect, type FeedClient } from "../support/feed";
import { publishTick, sessionStub } from "../support/hub";
import { clients } from "../support/tree";

describe("the hub's calls", () => {
  it("costs the hub nothing per client: many new clients, then all of them back after a restart", async () => {
    await publishTick();
    // Counted on the class, so a restart of the hub's instance (its own counters start over) loses none.
    const methods = ["copyPage", "ensureRunning", "snapshot", "historyPage", "candlesPage", "health"] as const;
    const spies = methods.map((m) => vi.spyOn(PriceHub.prototype, m));
    const calls = () => spies.reduce((n, spy) => n + spy.mock.calls.length, 0);
    const back: FeedClient[] = [];
    let feeds: FeedClient[] = [];
    try {
      const connected = await clients("many", 120);
      feeds = connected.feeds;
      // Shards made by the splits fill their copies from their parents: the root from the hub, once.
      const afterConnects = calls();
      expect(afterConnects).toBeLessThanOrEqual(2);

      for (const id of connected.ids) {
        await runInDurableObject(sessionStub(id), () => {});
        await evictDurableObject(sessionStub(id), { webSockets: "close" });
      }
      await Promise.all(feeds.map((f) => f.waitForClose()));
      const missed = await publishTick();
      back.push(...(await Promise.all(connected.ids.map((id) => connect(`client_id=${id}`)))));
      await Promise.all(back.map((f) => f.waitForSeq(missed.seq, 20_000)));
      expect(calls()).toBe(afterConnects);
    } finally {
      for (const spy of spies) spy.mockRestore();
      for (const f of [...feeds, ...back]) f.close();
    }
  }, 120_000);
});

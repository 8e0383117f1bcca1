/**
 * The abuse fuzz of abuse.test.ts, on a busy feed: random requests while 200 clients are connected
 * and ticks are published one after another. No 5xx, and every client gets every tick.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connect } from "../support/feed";
import { publishTick } from "../support/hub";
import { randomRequests } from "./random-requests";

describe("fuzz on a busy feed", () => {
  it("never answers 5xx, nor drops a tick, while 200 clients are connected and ticks flow", async () => {
    await publishTick();
    const clients = await Promise.all(
      Array.from({ length: 200 }, (_, i) => connect(`client_id=busy-${i}-${Date.now()}&currencies=USD`)),
    );
    await Promise.all(clients.map((c) => c.waitForFrames(2, 60_000))); // welcome and the latest price
    // Ticks flow the whole time: each one fanned out to the 200 while the fuzz's requests come in.
    const published: number[] = [];
    let fuzzing = true;
    const ticking = (async () => {
      while (fuzzing) published.push((await publishTick()).seq);
    })();
    try {
      await fc.assert(randomRequests(), { numRuns: 50 });
    } finally {
      fuzzing = false;
      await ticking;
    }
    for (const client of clients) {
      await client.waitForSeq(published.at(-1)!, 30_000);
      // The price it joined with, then every published seq once, in order.
      expect(
        client
          .prices()
          .map((p) => p.seq)
          .slice(1),
      ).toEqual(published);
      expect(client.closed).toBeNull();
    }
    for (const client of clients) client.close();
  }, 240_000);
});

import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config";
import { UNHEALTHY_TTL_S } from "../../src/http/api";
import type { Quotes } from "../../src/sources/types";
import { connect } from "../support/feed";
import { hub, publishTick, sleep } from "../support/hub";
import { loggedEvents } from "../support/logs";
import { fetchDocumented } from "../support/http";

// A 20 ms interval makes "three intervals without a fresh price" a 60 ms wait.
const fast = { ...readConfig(env), pollIntervalMs: 20 };
const poll = (prices: Quotes) => runInDurableObject(hub(), (instance) => instance.publish(prices, ["test"], {}, fast));

describe("staleness", () => {
  it("tells every client stale after three intervals without a fresh price, then live on recovery", async () => {
    const tick = await publishTick();
    const client = await connect("client_id=stale-watcher");
    await client.waitForFrames(2);

    // An unchanged price is still fresh: publish-on-change alone never makes the feed stale.
    for (let i = 0; i < 4; i++) {
      await sleep(15);
      expect(await poll({ USD: tick.prices.USD! })).toBeNull();
    }
    expect(client.frames.filter((f) => f.type === "status")).toEqual([]);

    await sleep(80);
    await poll({}); // every source failed
    const stale = await client.waitFor("status");
    expect(stale).toMatchObject({ type: "status", state: "stale", since: expect.any(Number) });
    const health = await fetchDocumented(new Request("http://feed.test/health"));
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ ok: false, status: "stale" });

    // A client connecting during the outage is told at once.
    const late = await connect("client_id=stale-late");
    await late.waitFor("status");
    expect(late.frames.find((f) => f.type === "status")).toMatchObject({ state: "stale" });

    await poll({ USD: tick.prices.USD! + 5 });
    await client.waitForFrames(client.frames.indexOf(stale) + 3);
    const after = client.frames.slice(client.frames.indexOf(stale) + 1);
    expect(after).toEqual(
      expect.arrayContaining([
        { type: "status", state: "live" },
        expect.objectContaining({ type: "price", replayed: false }),
      ]),
    );
    expect(client.closed).toBeNull();
    // The edge keeps a 503 for UNHEALTHY_TTL_S only: recovery shows once it has expired.
    await sleep(UNHEALTHY_TTL_S * 1000 + 50);
    expect((await fetchDocumented(new Request("http://feed.test/health"))).status).toBe(200);
    expect(loggedEvents("feed_status").map((e) => e.state)).toEqual(["stale", "live"]);
    client.close();
    late.close();
  });
});

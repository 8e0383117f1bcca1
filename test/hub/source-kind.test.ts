import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ClientSession } from "../../src/session/ClientSession";
import { readConfig } from "../../src/config";
import { needsNewHistory, sourceKindOf } from "../../src/hub/source-kind";
import type { FanoutEvent } from "../../src/contracts";
import type { Quotes } from "../../src/sources/types";
import pkg from "../../package.json";
import { connect } from "../support/feed";
import { hub, settledHub } from "../support/hub";
import { fetchDocumented } from "../support/http";
import { decodeEvent } from "../../src/relay/event-wire";

const real = readConfig(env);
const simulated = { ...real, priceSources: ["simulated"] };
const publishWith = (config: typeof real, prices: Quotes, sources: string[]) =>
  runInDurableObject(hub(), (instance) => instance.publish(prices, sources, {}, config));

describe("source kind", () => {
  it("is simulated as soon as the simulated walk is among the sources", () => {
    expect(sourceKindOf(["coinbase", "kraken"])).toBe("real");
    expect(sourceKindOf(["simulated"])).toBe("simulated");
    expect(sourceKindOf(["coinbase", "simulated"])).toBe("simulated");
    expect(sourceKindOf([])).toBeNull();
    expect(needsNewHistory("simulated", "real")).toBe(true);
    expect(needsNewHistory("real", "real")).toBe(false);
    expect(needsNewHistory(null, "real")).toBe(false);
  });

  it("keeps npm start and npm run start:live on separate local state", () => {
    const persistTo = (script: string) => /--persist-to\s+(\S+)/.exec(script)?.[1];
    const demo = persistTo(pkg.scripts.start);
    const live = persistTo(pkg.scripts["start:live"]);
    expect(pkg.scripts.start).toContain("PRICE_SOURCES:simulated");
    expect(demo).toBeDefined();
    expect(live).toBeDefined();
    expect(demo).not.toBe(live);
  });
});

describe("PriceHub history and source kind", () => {
  // Its own poll would switch the history back to the configured (real) sources mid-test.
  beforeAll(() => settledHub());

  it("starts a new history (new epoch) when the sources switch between simulated and real; seq goes on", async () => {
    const client = await connect("client_id=kind-watcher&currencies=USD");
    await client.waitForFrames(1);
    const realTick = (await publishWith(real, { USD: 97_000 }, ["coinbase", "kraken"]))!;
    const realEpoch = await hub().epoch();

    const events: FanoutEvent[] = [];
    const receive = ClientSession.prototype.receive;
    const spy = vi.spyOn(ClientSession.prototype, "receive").mockImplementation(async function (
      this: ClientSession,
      event,
    ) {
      events.push(decodeEvent(event));
      return receive.call(this, event);
    });
    const demoTick = (await publishWith(simulated, { USD: 65_000 }, ["simulated"]))!;
    spy.mockRestore();

    const demoEpoch = await hub().epoch();
    expect(demoEpoch).not.toBe(realEpoch);
    expect(demoTick.seq).toBe(realTick.seq + 1);
    expect(demoTick.changed).toEqual(["USD"]);
    expect((await hub().copyPage(0, 100)).ticks.map((t) => t.seq)).toEqual([demoTick.seq]);
    const page = await hub().historyPage("USD", 0, Date.now() + 1, 0, 100);
    expect(JSON.parse(page.points).map((p: { seq: number }) => p.seq)).toEqual([demoTick.seq]);
    // Sessions learn the new epoch with the tick itself, and that it starts at this tick's seq.
    expect(events).toContainEqual({ kind: "tick", tick: demoTick, epoch: { id: demoEpoch, startSeq: demoTick.seq } });
    const newcomer = await connect("client_id=kind-newcomer&currencies=USD");
    expect(await newcomer.waitFor("welcome")).toMatchObject({ epoch: demoEpoch });
    newcomer.close();

    // The same kind again keeps the history; switching back starts another.
    const nextDemo = (await publishWith(simulated, { USD: 65_010 }, ["simulated"]))!;
    expect(await hub().epoch()).toBe(demoEpoch);
    const backToReal = (await publishWith(real, { USD: 97_010 }, ["coinbase"]))!;
    expect(backToReal.seq).toBe(nextDemo.seq + 1);
    expect(await hub().epoch()).not.toBe(demoEpoch);
    expect((await hub().copyPage(0, 100)).ticks).toEqual([backToReal]);
    client.close();
  });

  it("does not serve a simulated history once restarted with real sources (the demo-then-live case)", async () => {
    await publishWith(simulated, { USD: 64_386 }, ["simulated"]);
    const demoEpoch = await hub().epoch();
    await evictDurableObject(hub()); // the hub starts again with the configured (real) sources

    const price = await fetchDocumented(new Request("http://feed.test/api/price"));
    expect(price.status).toBe(404);
    expect(await hub().epoch()).not.toBe(demoEpoch);
  });

  it("tells a history from before the kind was recorded by its latest tick's sources", async () => {
    await publishWith(real, { USD: 97_100 }, ["coinbase"]);
    const forget = () => runInDurableObject(hub(), (_i, state) => state.storage.kv.delete("source_kind"));

    await forget();
    await evictDurableObject(hub());
    const kept = await hub().epoch();
    expect((await hub().latest())?.prices.USD).toBe(97_100);

    await runInDurableObject(hub(), (_i, state) =>
      state.storage.sql.exec(
        "UPDATE ticks SET sources = ? WHERE seq = (SELECT MAX(seq) FROM ticks)",
        JSON.stringify(["simulated"]),
      ),
    );
    await forget();
    await evictDurableObject(hub());
    expect(await hub().latest()).toBeNull();
    expect(await hub().epoch()).not.toBe(kept);
  });
});

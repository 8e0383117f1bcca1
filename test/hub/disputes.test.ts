/**
 * The issue-12 drill, replayed from a recorded-shape sequence (test/fixtures/sources/kraken-spike-sequence.json):
 * Coinbase stops answering, then Kraken prints ten times the market on every pair for five polls.
 * Each poll goes through the real parsers and aggregation, then through the hub to a client's socket.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { UNHEALTHY_TTL_S } from "../../src/http/api";
import { initialPollerState, pollOnce, type PollerState } from "../../src/hub/poller";
import type { Currency, Dispute, Tick } from "../../src/protocol";
import sequence from "../fixtures/sources/kraken-spike-sequence.json";
import { connect, type FeedClient } from "../support/feed";
import { hub, settledHub, sleep } from "../support/hub";
import { fakeClock, pollHarness, testConfig } from "../support/poll-harness";
import { fetchDocumented } from "../support/http";

type RecordedPoll = (typeof sequence.polls)[number];
const BITSTAMP_ONLY: Currency[] = ["USD", "EUR", "GBP"];
const KRAKEN_AND_COINBASE: Currency[] = ["JPY", "CAD", "CHF", "AUD"];

/** Serves the recorded answers of one poll to the *.test upstream hosts. */
function serveRecorded(current: () => RecordedPoll): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const poll = current();
    const body = (value: unknown) =>
      new Response(JSON.stringify(value), { headers: { "Content-Type": "application/json" } });
    switch (url.hostname) {
      case "coinbase.test":
        if (poll.coinbase === "refused") throw new TypeError("fetch failed: connect ECONNREFUSED");
        return body(poll.coinbase);
      case "kraken.test":
        return body(poll.kraken);
      case "bitstamp.test": {
        const pair = /btc(usd|eur|gbp)/.exec(url.pathname)?.[1] as keyof RecordedPoll["bitstamp"];
        return body(poll.bitstamp[pair]);
      }
      default:
        return original(input, init);
    }
  }) as typeof fetch;
  return () => {
    globalThis.fetch = original;
  };
}

describe("one venue spikes while another is down (recorded sequence)", () => {
  let restore = () => {};
  afterEach(() => restore());
  // The hub's first alarm polls on its own; let it finish (against no upstream) before the sequence starts.
  beforeAll(() => settledHub());

  it("publishes the venue near the last price, holds back what it cannot confirm, and tells every client", async () => {
    const polls = sequence.polls;
    let index = 0;
    restore = serveRecorded(() => polls[index]!);
    const clock = fakeClock(polls[0]!.at * 1000);
    const config = testConfig();
    const harness = pollHarness(config, clock);
    let poller: PollerState = initialPollerState();
    const ticks: (Tick | null)[] = [];
    const disputesAfter: Dispute[][] = [];
    let client: FeedClient | null = null;
    let late: FeedClient | null = null;
    let healthDuringSpike: { status: number; body: Record<string, unknown> } | null = null;

    for (index = 0; index < polls.length; index++) {
      clock.advance(polls[index]!.at * 1000 - clock.now());
      const last = (await hub().latest())?.prices ?? {};
      const outcome = await pollOnce(poller, harness.deps, last);
      poller = outcome.state;
      disputesAfter.push(outcome.disputes);
      ticks.push(
        await runInDurableObject(hub(), (instance) =>
          instance.publish(
            outcome.prices,
            outcome.sources,
            { disputes: outcome.disputes, currencySources: outcome.sourcesByCurrency },
            config,
          ),
        ),
      );
      if (index === 0) {
        client = await connect("client_id=spike-watcher&currencies=USD,JPY");
        await client.waitForFrames(2);
      }
      if (index === 7) {
        late = await connect("client_id=spike-latecomer&currencies=CHF");
        await late.waitFor("status");
        const response = await fetchDocumented(new Request("http://feed.test/health"));
        healthDuringSpike = { status: response.status, body: await response.json() };
      }
    }

    const bitstampUsd = (i: number) => Number(polls[i]!.bitstamp.usd.last);
    // All three up: every currency published; JPY and the others never had Bitstamp.
    for (const i of [0, 1, 2]) {
      expect(ticks[i]).toMatchObject({ sources: ["bitstamp", "coinbase", "kraken"] });
      expect(Object.keys(ticks[i]!.currencySources ?? {})).toEqual(KRAKEN_AND_COINBASE);
    }
    // Coinbase gone: JPY, CAD, CHF and AUD come from Kraken alone, near their last price, and the frame says so.
    for (const i of [3, 4]) {
      expect(ticks[i]).toMatchObject({
        sources: ["bitstamp", "kraken"],
        changed: expect.arrayContaining(KRAKEN_AND_COINBASE),
      });
      expect(ticks[i]!.currencySources).toEqual(Object.fromEntries(KRAKEN_AND_COINBASE.map((c) => [c, ["kraken"]])));
    }
    // Kraken at ten times the market: Bitstamp wins USD, EUR and GBP on history; the others are held back.
    for (const i of [5, 6, 7, 8, 9]) {
      const tick = ticks[i];
      if (tick) {
        expect(tick.sources).toEqual(["bitstamp"]);
        expect(tick.changed.every((c) => BITSTAMP_ONLY.includes(c))).toBe(true);
        expect(tick.prices.USD).toBe(bitstampUsd(i));
        expect(tick.prices.JPY).toBe(ticks[4]!.prices.JPY);
      }
      expect(disputesAfter[i]!.map((d) => d.currency)).toEqual(KRAKEN_AND_COINBASE);
      for (const d of disputesAfter[i]!) expect(Object.keys(d.quotes)).toEqual(["kraken"]);
    }
    expect(harness.eventsOf("outlier_rejected")).toEqual(
      BITSTAMP_ONLY.map((currency) => expect.objectContaining({ source: "kraken", currency, against: "last_price" })),
    );
    // Kraken recovers: JPY and the others are published again, and Kraken counts for USD once it agreed 3 polls.
    expect(ticks[10]!.changed).toEqual(expect.arrayContaining(KRAKEN_AND_COINBASE));
    expect(disputesAfter[10]).toEqual([]);
    expect(harness.eventsOf("source_readmitted").map((e) => e.currency)).toEqual(BITSTAMP_ONLY);
    expect(ticks[13]!.sources).toEqual(["bitstamp", "kraken"]);
    // No published price was ever more than 1 % away from the first one.
    const first = ticks[0]!.prices;
    for (const tick of ticks) {
      for (const [currency, price] of Object.entries(tick?.prices ?? {})) {
        expect(Math.abs(price / first[currency as Currency]! - 1)).toBeLessThan(0.01);
      }
    }

    // The client heard of it once when it began and once when it ended.
    const watcher = client!;
    await watcher.waitForSeq(ticks[13]!.seq);
    const statuses = watcher.frames.filter((f) => f.type === "status");
    expect(statuses).toEqual([
      {
        type: "status",
        state: "disputed",
        since: expect.any(Number),
        disputes: KRAKEN_AND_COINBASE.map((currency) => ({ currency, quotes: { kraken: expect.any(Number) } })),
      },
      { type: "status", state: "live" },
    ]);
    const disputed = statuses[0] as Extract<(typeof statuses)[number], { state: "disputed" }>;
    expect(disputed.disputes[0]!.quotes.kraken).toBeGreaterThan(9 * ticks[4]!.prices.JPY!);
    // Its price frames name JPY's sources while they differ from the tick's.
    const frameOf = (seq: number) => watcher.prices().find((p) => p.seq === seq)!;
    expect(frameOf(ticks[0]!.seq).sources_by_currency).toEqual({ JPY: ["coinbase", "kraken"] });
    expect(frameOf(ticks[3]!.seq).sources_by_currency).toEqual({ JPY: ["kraken"] });
    expect(frameOf(ticks[13]!.seq)).toMatchObject({
      sources: ["bitstamp", "kraken"],
      sources_by_currency: { JPY: ["kraken"] },
    });

    // A socket opened during the dispute learns of it right after its snapshot; /health says it too.
    expect(late!.frames.slice(0, 3).map((f) => f.type)).toEqual(["welcome", "price", "status"]);
    expect(late!.frames[2]).toMatchObject({ state: "disputed" });
    expect(healthDuringSpike).toMatchObject({
      status: 503,
      body: {
        ok: false,
        status: "disputed",
        disputes: KRAKEN_AND_COINBASE.map((currency) => expect.objectContaining({ currency })),
      },
    });
    // The edge keeps a 503 for UNHEALTHY_TTL_S only: recovery shows once it has expired.
    await sleep(UNHEALTHY_TTL_S * 1000 + 50);
    const after = await fetchDocumented(new Request("http://feed.test/health"));
    expect(after.status).toBe(200);
    watcher.close();
    late!.close();
  });
});

describe("the hub's disputed status", () => {
  it("goes out once per change of the disputed set, not once per poll", async () => {
    const config = testConfig();
    const publish = (prices: Record<string, number>, disputes: Dispute[]) =>
      runInDurableObject(hub(), (instance) => instance.publish(prices, ["test"], { disputes }, config));
    await publish({ USD: 90_000, EUR: 80_000 }, []);
    const client = await connect("client_id=dispute-counter&currencies=USD");
    await client.waitForFrames(2);

    const usd = (kraken: number): Dispute => ({ currency: "USD", quotes: { bitstamp: 90_010, kraken } });
    await publish({ EUR: 80_001 }, [usd(900_000)]);
    await publish({ EUR: 80_002 }, [usd(900_100)]); // other values, same state
    await publish({ EUR: 80_003 }, [usd(900_200), { currency: "GBP", quotes: { kraken: 700_000 } }]);
    // A known client opening another socket meanwhile is told from its session's own record, not the hub.
    const again = await connect("client_id=dispute-counter&currencies=USD");
    await again.waitForFrames(3);
    expect(again.frames.slice(0, 3).map((f) => f.type)).toEqual(["welcome", "price", "status"]);
    // A known client may hold the latest price already (the other socket has it): it comes as replayed.
    expect(again.frames[1]).toMatchObject({ replayed: true });
    expect(again.frames[2]).toMatchObject({ state: "disputed", disputes: [{ currency: "USD" }, { currency: "GBP" }] });
    again.close();
    await publish({ USD: 90_005, EUR: 80_004, GBP: 70_000 }, []);
    await client.waitForSeq((await hub().latest())!.seq);
    // USD came from all of the tick's sources: its frames carry no per-currency list.
    expect(client.prices().every((p) => !("sources_by_currency" in p))).toBe(true);

    expect(
      client.frames
        .filter((f) => f.type === "status")
        .map((f) => (f.state === "disputed" ? f.disputes.map((d) => d.currency) : f.state)),
    ).toEqual([["USD"], ["USD", "GBP"], "live"]);
    client.close();
  });
});

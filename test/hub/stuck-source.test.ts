/**
 * A source stuck on its last quote (an exchange serving a cached answer) while the market moves.
 * Coinbase and Kraken do not date their quotes, so only the quote's holding still while the other
 * sources move gives it away. Each poll goes through the real poller and parsers against the fake
 * upstreams, then through what the hub does with it (tick, status).
 */
import { afterEach, describe, expect, it } from "vitest";
import { roundPrice } from "../../src/hub/aggregate";
import { STUCK_AFTER_POLLS } from "../../src/hub/stuck";
import { SUPPORTED_CURRENCIES, type Currency } from "../../src/protocol";
import { fakeQuote, type FakeUpstreamController, type UpstreamName } from "../support/fake-upstream";
import { fakeFeed, type FeedStep } from "../support/poll-harness";

const START_USD = 100_000.5;
const STEP = 1.004; // the market rises 0.4 % per poll
const ALL = [...SUPPORTED_CURRENCIES];
const BITSTAMP: Currency[] = ["USD", "EUR", "GBP"];

/** Decimals each fake upstream writes its quotes with. */
const ANSWER_DECIMALS: Record<UpstreamName, number> = { coinbase: 2, kraken: 5, bitstamp: 0, coindesk: 8 };

/** What a source quotes now, as its answer writes it. */
const quoted = (fake: FakeUpstreamController, source: UpstreamName, currency: Currency) =>
  Number(fakeQuote(fake.state, source, currency).toFixed(ANSWER_DECIMALS[source]));

describe("a source stuck on its last quote", () => {
  let fake: FakeUpstreamController | null = null;
  afterEach(() => {
    fake?.restore();
    fake = null;
  });

  const setUp = (sources: string) => {
    const feed = fakeFeed(sources, { priceUsd: START_USD });
    fake = feed.fake;
    return feed;
  };

  /** A market that moves a little around START_USD, every source answering it. */
  const normalPolls = async (fake: FakeUpstreamController, poll: () => Promise<FeedStep>, sources: string[]) => {
    for (const usd of [START_USD + 40, START_USD - 25, START_USD + 10, START_USD]) {
      fake.setPrice(usd);
      const step = await poll();
      expect(step.status.state).toBe("live");
      expect(step.tick!.sources).toEqual(sources);
      expect(step.health.every((h) => h.stuckCurrencies.length === 0)).toBe(true);
    }
  };

  it("is found out while Kraken rises 10 %: the feed follows Kraken, never the stuck quote", async () => {
    const { fake, harness, poll } = setUp("coinbase,kraken");
    await normalPolls(fake, poll, ["coinbase", "kraken"]);
    const stuckUsd = quoted(fake, "coinbase", "USD");
    expect(stuckUsd).toBe(START_USD);

    fake.setMode("coinbase", "stuck");
    const steps: FeedStep[] = [];
    const liveStuck: string[] = [];
    const notKraken: string[] = [];
    for (let k = 1; k <= 24; k++) {
      fake.setPrice(START_USD * STEP ** k);
      const step = await poll();
      steps.push(step);
      expect(quoted(fake, "coinbase", "USD")).toBe(stuckUsd); // the fake really is stuck
      for (const c of ALL) {
        const price = step.tick!.prices[c];
        // Never the stuck quote as a live price, in any currency.
        if (step.status.state === "live" && price === roundPrice(c, quoted(fake, "coinbase", c))) {
          liveStuck.push(`poll ${k} ${c} ${price}`);
        }
        // Within a few polls: Kraken's price, live, in every currency.
        const kraken = roundPrice(c, quoted(fake, "kraken", c));
        if (k > STUCK_AFTER_POLLS && (step.status.state !== "live" || price !== kraken)) {
          notKraken.push(`poll ${k} ${c}: ${step.status.state} ${price}, Kraken ${kraken}`);
        }
      }
    }
    expect(liveStuck).toEqual([]);
    expect(notKraken).toEqual([]);
    const last = steps.at(-1)!;
    expect(last.tick!.sources).toEqual(["kraken"]);
    expect(last.tick!.prices.USD).toBe(110_055.38);
    expect(last.health.find((h) => h.name === "coinbase")).toMatchObject({
      suspect: true,
      suspectCurrencies: ALL,
      stuckCurrencies: ALL,
      state: "closed",
    });
    expect(last.health.find((h) => h.name === "kraken")).toMatchObject({ suspect: false, stuckCurrencies: [] });
    const stuckEvents = harness.eventsOf("quote_stuck");
    expect(stuckEvents).toEqual(
      ALL.map((currency) => ({ event: "quote_stuck", source: "coinbase", currency, value: expect.any(Number) })),
    );
    expect(stuckEvents[0]!.value).toBe(stuckUsd);

    // Coinbase's cache clears: it counts again once it has agreed for three polls in a row.
    fake.setMode("coinbase", "ok");
    for (let k = 1; k <= 3; k++) {
      fake.setPrice(START_USD * STEP ** 24 * 1.001 ** k);
      const step = await poll();
      expect(step.tick!.sources).toEqual(["kraken"]);
      expect(step.health.find((h) => h.name === "coinbase")!.stuckCurrencies).toEqual([]);
    }
    expect(harness.eventsOf("source_readmitted")).toEqual(
      ALL.map((currency) => expect.objectContaining({ source: "coinbase", currency })),
    );
    fake.setPrice(START_USD * STEP ** 24 * 1.001 ** 4);
    const readmitted = await poll();
    expect(readmitted.tick!.sources).toEqual(["coinbase", "kraken"]);
    expect(readmitted.health.every((h) => !h.suspect)).toBe(true);
  });

  it("with three sources, leaves the stuck one out of every currency and takes the others' median", async () => {
    const { fake, poll } = setUp("coinbase,kraken,bitstamp");
    await normalPolls(fake, poll, ["bitstamp", "coinbase", "kraken"]);
    fake.setMode("kraken", "stuck");
    let step: FeedStep | null = null;
    for (let k = 1; k <= 6; k++) {
      fake.setPrice(START_USD * STEP ** k);
      step = await poll();
      expect(step.status.state).toBe("live");
      if (k > STUCK_AFTER_POLLS) {
        // USD, EUR, GBP: Coinbase and Bitstamp; the others: Coinbase alone, within its band of the last price.
        expect(step.tick!.sources).toEqual(["bitstamp", "coinbase"]);
        for (const c of ALL) expect(step.tick!.currencySources?.[c] ?? step.tick!.sources).not.toContain("kraken");
      }
    }
    const coinbase = (c: Currency) => quoted(fake, "coinbase", c);
    for (const c of BITSTAMP)
      expect(step!.tick!.prices[c]).toBe(roundPrice(c, (coinbase(c) + quoted(fake, "bitstamp", c)) / 2));
    expect(step!.tick!.prices.JPY).toBe(roundPrice("JPY", coinbase("JPY")));
    expect(step!.health.find((h) => h.name === "kraken")!.stuckCurrencies).toEqual(ALL);
  });

  it("finds nobody stuck in a quiet market where every quote holds still", async () => {
    const { fake, harness, poll } = setUp("coinbase,kraken,bitstamp");
    fake.setOffset("kraken", 0.3);
    fake.setOffset("bitstamp", -0.2);
    for (let k = 0; k < 20; k++) {
      const step = await poll();
      expect(step.status.state).toBe("live");
      expect(step.outcome.sources).toEqual(["coinbase", "kraken", "bitstamp"]);
    }
    expect(harness.eventsOf("quote_stuck")).toEqual([]);
  });

  it("does not take a stuck source's word once its last peer is gone: the feed says it cannot decide", async () => {
    const { fake, poll } = setUp("coinbase,kraken");
    await normalPolls(fake, poll, ["coinbase", "kraken"]);
    fake.setMode("coinbase", "stuck");
    for (let k = 1; k <= STUCK_AFTER_POLLS + 1; k++) {
      fake.setPrice(START_USD * STEP ** k);
      await poll();
    }
    fake.setMode("kraken", "refused");
    for (let k = 0; k < 5; k++) {
      const step = await poll();
      expect(step.published).toBe(false);
      expect(step.status).toMatchObject({
        state: "disputed",
        disputes: ALL.map((currency) => ({
          currency,
          quotes: { coinbase: roundPrice(currency, quoted(fake, "coinbase", currency)) },
        })),
      });
    }
  });
});

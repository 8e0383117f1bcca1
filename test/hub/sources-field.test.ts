/**
 * `sources` names only sources behind a published price: in a tick (this poll's prices), and in what a
 * client sees of it (a price frame or GET /api/price, in the client's currencies).
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { aggregate, type Observation, type SuspectStreaks } from "../../src/hub/aggregate";
import { nextTick } from "../../src/hub/publish";
import type { QuoteRuns } from "../../src/hub/stuck";
import { priceFields, sourcesBehind, SUPPORTED_CURRENCIES, type Currency, type Tick } from "../../src/protocol";
import type { Quotes } from "../../src/sources/types";
import type { FakeUpstreamController } from "../support/fake-upstream";
import { fakeFeed } from "../support/poll-harness";

const KRAKEN_ONLY: Currency[] = ["JPY", "CAD", "CHF", "AUD"];
const ALL = [...SUPPORTED_CURRENCIES];

describe("sources in ticks and what clients see", () => {
  let fake: FakeUpstreamController | null = null;
  afterEach(() => {
    fake?.restore();
    fake = null;
  });

  const setUp = (sources: string) => {
    const feed = fakeFeed(sources);
    fake = feed.fake;
    return feed;
  };

  it("Kraken at 10x beside a sane Bitstamp: Kraken is behind no price, and nobody is told it is", async () => {
    const { fake, poll } = setUp("bitstamp,kraken");
    const before = await poll();
    expect(before.tick!.sources).toEqual(["bitstamp", "kraken"]);
    expect(priceFields(before.tick!, ["USD"]).sources).toEqual(["bitstamp", "kraken"]);

    fake.setMode("kraken", "outlier10x");
    for (let i = 0; i < 4; i++) {
      const step = await poll();
      const tick = step.tick!;
      // USD, EUR and GBP from Bitstamp; Kraken's lone JPY, CAD, CHF and AUD at 10x are held back.
      expect(tick.sources).toEqual(["bitstamp"]);
      for (const c of KRAKEN_ONLY) expect(tick.prices[c]).toBe(before.tick!.prices[c]);
      expect(step.status).toMatchObject({ state: "disputed", disputes: KRAKEN_ONLY.map((currency) => ({ currency })) });
      const usd = priceFields(tick, ["USD"]);
      expect(usd.sources).toEqual(["bitstamp"]);
      expect(usd).not.toHaveProperty("sources_by_currency");
      // A client of JPY still sees the last JPY price, the one Kraken gave before.
      expect(priceFields(tick, ["JPY"])).toMatchObject({ prices: { JPY: 15_000_000 }, sources: ["kraken"] });
    }
  });

  it("a price that stays the same while a source behind it is thrown out makes a new tick without it", async () => {
    const { fake, poll } = setUp("coinbase,kraken,bitstamp");
    const first = await poll();
    expect(first.tick!.sources).toEqual(["bitstamp", "coinbase", "kraken"]);
    fake.setMode("kraken", "outlier10x");
    const spike = await poll();
    expect(spike.published).toBe(true);
    expect(spike.tick!.prices).toEqual(first.tick!.prices);
    expect(spike.tick!.changed).toEqual(ALL);
    expect(spike.tick!.sources).toEqual(["bitstamp", "coinbase"]);
    expect(priceFields(spike.tick!, ["USD", "JPY"])).toMatchObject({
      sources: ["bitstamp", "coinbase"],
      sources_by_currency: { JPY: ["coinbase"] },
    });
    expect((await poll()).published).toBe(false); // nothing changed since
  });
});

describe("a client's view of a tick", () => {
  const tick: Tick = {
    seq: 7,
    tsMs: 7000,
    prices: { USD: 100, EUR: 90, JPY: 15_000 },
    changed: ["USD"],
    sources: ["bitstamp", "coinbase"],
    currencySources: { JPY: ["kraken"], EUR: ["bitstamp"] },
  };

  it("names the sources behind its own currencies' prices, and lists a currency's only when they are fewer", () => {
    expect(priceFields(tick, ["USD"])).toMatchObject({ sources: ["bitstamp", "coinbase"] });
    expect(priceFields(tick, ["USD"])).not.toHaveProperty("sources_by_currency");
    expect(priceFields(tick, ["JPY"])).toMatchObject({ sources: ["kraken"] });
    expect(priceFields(tick, ["JPY"])).not.toHaveProperty("sources_by_currency");
    expect(priceFields(tick, ["EUR", "JPY"])).toMatchObject({
      sources: ["bitstamp", "kraken"],
      sources_by_currency: { EUR: ["bitstamp"], JPY: ["kraken"] },
    });
    expect(priceFields(tick, ["USD", "EUR"])).toMatchObject({
      sources: ["bitstamp", "coinbase"],
      sources_by_currency: { EUR: ["bitstamp"] },
    });
    expect(priceFields(tick, ["GBP"])).toMatchObject({ prices: {}, sources: [] });
  });
});

describe("sources, over random quotes", () => {
  const SOURCES = ["a", "b", "c", "d"];
  /** A source's quote: near the market, far off (a liar), or none. */
  const quote = fc.oneof(
    fc.double({ min: 0.99, max: 1.01, noNaN: true }),
    fc.constantFrom(0.5, 10),
    fc.constant(undefined),
  );
  /** Per poll, per source, per currency: a factor of the market price, or no quote. */
  const polls = fc.array(fc.array(fc.array(quote, { minLength: 3, maxLength: 3 }), { minLength: 4, maxLength: 4 }), {
    minLength: 1,
    maxLength: 12,
  });
  const CURRENCIES: Currency[] = ["USD", "EUR", "JPY"];
  const views = fc.array(fc.subarray(CURRENCIES, { minLength: 1 }), { minLength: 1, maxLength: 4 });

  it("every source a tick or a view names backs one of its prices; none thrown out backs one", () => {
    fc.assert(
      fc.property(polls, fc.integer({ min: 1, max: 4 }), views, (rows, quotedByAll, viewsOf) => {
        let suspects: Record<string, SuspectStreaks> = {};
        let quoteRuns: Record<string, QuoteRuns> = {};
        let tick: Tick | null = null;
        const quotedBy = { USD: quotedByAll, EUR: quotedByAll, JPY: 1 };
        for (const [p, row] of rows.entries()) {
          const observations: Observation[] = SOURCES.map((source, s) => {
            const quotes: Quotes = {};
            CURRENCIES.forEach((c, i) => {
              const factor = row[s]![i];
              if (factor !== undefined) quotes[c] = 100_000 * factor * (1 + p / 1000);
            });
            return { source, quotes, fresh: true };
          });
          const lastPrices: Quotes = tick?.prices ?? {};
          const result = aggregate(
            observations,
            suspects,
            { maxDeviationPct: 2, readmitAfter: 3 },
            {
              lastPrices,
              quotedBy,
              quoteRuns,
            },
          );
          suspects = result.suspects;
          quoteRuns = result.quoteRuns;
          const fresh = Object.keys(result.prices) as Currency[];
          tick = nextTick(tick, result.prices, result.contributors, p + 1, p, result.sourcesByCurrency) ?? tick;
          if (!tick || fresh.length === 0) continue;

          for (const c of fresh) {
            for (const source of sourcesBehind(tick, c)) {
              // A source behind a fresh price quoted it sanely and was not thrown out of it.
              expect(observations.find((o) => o.source === source)!.quotes[c]).toBeDefined();
              expect(result.rejected.filter((r) => r.currency === c).map((r) => r.source)).not.toContain(source);
              expect(result.stuck.filter((r) => r.currency === c).map((r) => r.source)).not.toContain(source);
            }
          }
          const behindFresh = new Set(fresh.flatMap((c) => sourcesBehind(tick!, c)));
          expect(tick.sources).toEqual([...behindFresh].sort());

          for (const currencies of viewsOf) {
            const view = priceFields(tick, currencies);
            const shown = Object.keys(view.prices) as Currency[];
            const behind = (c: Currency) => view.sources_by_currency?.[c] ?? view.sources;
            expect(new Set(view.sources)).toEqual(new Set(shown.flatMap(behind)));
            for (const c of shown) expect(behind(c)).toEqual(sourcesBehind(tick, c));
          }
        }
      }),
    );
  });
});

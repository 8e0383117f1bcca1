import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aggregate, type Aggregation, type Observation, type SuspectStreaks } from "../../src/hub/aggregate";
import { median } from "../../src/hub/median";
import { nextRuns, STUCK_AFTER_POLLS, stuckRule, type QuoteRun, type QuoteRuns } from "../../src/hub/stuck";
import type { Currency } from "../../src/protocol";
import type { Quotes } from "../../src/sources/types";

const OPTIONS = { maxDeviationPct: 2, readmitAfter: 3 };
const RULE = stuckRule(OPTIONS.maxDeviationPct);

/** Polls aggregate in sequence as the poller does: suspects, quote runs and last prices carry over. */
function sequence(quotedBy: Partial<Record<Currency, number>>) {
  let suspects: Record<string, SuspectStreaks> = {};
  let quoteRuns: Record<string, QuoteRuns> = {};
  let lastPrices: Quotes = {};
  return (quotes: Record<string, Quotes>): Aggregation => {
    const observations: Observation[] = Object.entries(quotes).map(([source, q]) => ({
      source,
      quotes: q,
      fresh: true,
    }));
    const result = aggregate(observations, suspects, OPTIONS, { lastPrices, quotedBy, quoteRuns });
    suspects = result.suspects;
    quoteRuns = result.quoteRuns;
    lastPrices = { ...lastPrices, ...result.prices };
    return result;
  };
}

/** Runs of sources whose quotes for one currency go through `polls`, one row per poll. */
function runsOver(polls: Record<string, number>[]): Record<string, QuoteRun>[] {
  let runs: Record<string, QuoteRun> = {};
  return polls.map((poll) => {
    const sources = Object.keys(poll);
    const next = nextRuns(
      sources.map((source) => ({ source, value: poll[source]!, previous: runs[source] })),
      RULE,
    );
    runs = { ...runs, ...Object.fromEntries(sources.map((s, i) => [s, next[i]!])) };
    return runs;
  });
}

describe("nextRuns", () => {
  it("finds a quote stuck once it held still for two polls in which the others moved more than 0.5 %", () => {
    const runs = runsOver([
      { a: 100, b: 100 },
      { a: 100, b: 100.3 },
      { a: 100, b: 100.6 },
      { a: 100, b: 100.7 },
    ]);
    expect(runs.map((r) => r.a!.stuck)).toEqual([false, false, true, true]);
    expect(runs[2]!.a).toMatchObject({ value: 100, stillWhilePeersMoved: 2, peersAtStart: 100 });
    expect(runs.every((r) => !r.b!.stuck)).toBe(true);
  });

  it("needs both: enough polls in which the others moved, and far enough", () => {
    // One big move: far enough, but the others moved in one poll only.
    expect(
      runsOver([
        { a: 100, b: 100 },
        { a: 100, b: 110 },
        { a: 100, b: 110 },
      ]).at(-1)!.a!.stuck,
    ).toBe(false);
    // Many small moves back and forth: the others never got 0.5 % away.
    const wiggle = [100, 100.2, 99.9, 100.3, 100.1, 99.8].map((b) => ({ a: 100, b }));
    expect(runsOver(wiggle).at(-1)!.a).toMatchObject({ stuck: false, stillWhilePeersMoved: 5 });
  });

  it("finds nobody stuck when every quote holds still, nor a source quoting alone", () => {
    const quiet = runsOver(Array.from({ length: 10 }, () => ({ a: 100, b: 101.5, c: 99 })));
    expect(Object.values(quiet.at(-1)!).every((r) => !r.stuck)).toBe(true);
    expect(runsOver(Array.from({ length: 10 }, () => ({ a: 100 }))).at(-1)!.a!.stuck).toBe(false);
  });

  it("takes no peer's jump for a market move: a source back from an outage, then a liar", () => {
    const runs = runsOver([
      { a: 100, b: 100, c: 100 },
      { a: 100, b: 100 }, // c fails
      { a: 100, b: 100, c: 100.4 }, // c is back with a newer quote: a small move
      { a: 100, b: 1000, c: 100.4 }, // b prints ten times the market
      { a: 100, b: 1000, c: 100.4 },
      { a: 100, b: 1000.5, c: 100.4 },
    ]);
    expect(runs.map((r) => r.a!.stuck)).toEqual([false, false, false, false, false, false]);
    // Once the peers really move on from where the jump left them, a quote that holds still is found out.
    const moving = runsOver([
      { a: 100, b: 100 },
      { a: 100, b: 1000 },
      { a: 100, b: 1004 },
      { a: 100, b: 1008 },
    ]);
    expect(moving.map((r) => r.a!.stuck)).toEqual([false, false, false, true]);
  });

  it("keeps a stuck quote stuck, however the others move, until it changes", () => {
    const runs = runsOver([
      { a: 100, b: 100 },
      { a: 100, b: 101 },
      { a: 100, b: 102 },
      { a: 100, b: 100 }, // the others came back to it: still the same cached answer
      { a: 100.01, b: 100 },
    ]);
    expect(runs.map((r) => r.a!.stuck)).toEqual([false, false, true, true, false]);
  });
});

describe("aggregate with stuck quotes", () => {
  it("clears a source that a stuck quote beat on history, and says it cannot decide while only it moves", () => {
    const poll = sequence({ USD: 2 });
    expect(poll({ a: { USD: 100 }, b: { USD: 100 } }).prices).toEqual({ USD: 100 });
    // b rises 2.5 % a poll: too far from the last price at once, so a (already stuck, unknowingly) wins.
    const first = poll({ a: { USD: 100 }, b: { USD: 102.5 } });
    expect(first.prices).toEqual({ USD: 100 });
    expect(first.suspects.b).toEqual({ USD: 0 });
    // Now a is found stuck: b was right, but alone and 5 % from the last price it cannot be confirmed.
    const second = poll({ a: { USD: 100 }, b: { USD: 105.06 } });
    expect(second.stuck).toEqual([{ source: "a", currency: "USD", value: 100 }]);
    expect(second.readmitted).toEqual([{ source: "b", currency: "USD" }]);
    expect(second.suspects).toEqual({ a: { USD: 0 }, b: {} });
    expect(second.prices).toEqual({});
    expect(second.disputes).toEqual([{ currency: "USD", quotes: { a: 100, b: 105.06 } }]);
    expect(poll({ a: { USD: 100 }, b: { USD: 107.69 } }).prices).toEqual({});
    // a answers again: on probation it confirms b's price, and counts once it agreed three polls in a row.
    expect(poll({ a: { USD: 107.6 }, b: { USD: 107.7 } })).toMatchObject({
      prices: { USD: 107.7 },
      contributors: ["b"],
    });
    poll({ a: { USD: 107.8 }, b: { USD: 107.8 } });
    expect(poll({ a: { USD: 107.9 }, b: { USD: 107.9 } }).readmitted).toEqual([{ source: "a", currency: "USD" }]);
    expect(poll({ a: { USD: 108 }, b: { USD: 108.2 } })).toMatchObject({
      prices: { USD: 108.1 },
      contributors: ["a", "b"],
    });
  });

  it("does not take a quote that holds still for stuck when the other one jumped once (a liar, not a market)", () => {
    const poll = sequence({ USD: 2 });
    poll({ a: { USD: 100 }, b: { USD: 100 } });
    for (let i = 0; i < 10; i++) {
      const result = poll({ a: { USD: 100 }, b: { USD: 1000 } });
      expect(result).toMatchObject({ prices: { USD: 100 }, stuck: [], sourcesByCurrency: { USD: ["a"] } });
    }
  });

  it("does not trust a source found stuck on one currency alone with a currency nobody else quotes", () => {
    const poll = sequence({ USD: 2, CHF: 1 });
    poll({ a: { USD: 100, CHF: 90 }, b: { USD: 100 } });
    poll({ a: { USD: 100, CHF: 90 }, b: { USD: 100.3 } });
    const stuck = poll({ a: { USD: 100, CHF: 95 }, b: { USD: 100.6 } });
    expect(stuck.stuck).toEqual([{ source: "a", currency: "USD", value: 100 }]);
    expect(stuck.prices).toEqual({ USD: 100.6 });
    expect(stuck.disputes).toEqual([{ currency: "CHF", quotes: { a: 95 } }]);
    // Within its band of the last CHF price it is published as before.
    expect(poll({ a: { USD: 100, CHF: 90.5 }, b: { USD: 100.7 } }).prices).toEqual({ USD: 100.7, CHF: 90.5 });
  });
});

describe("stuck quotes, over random markets", () => {
  const sourceCount = fc.integer({ min: 2, max: 5 });
  /** Offsets between sources, in percent: they agree within MAX_DEVIATION_PCT. */
  const offsets = (n: number) =>
    fc.array(fc.double({ min: -0.6, max: 0.6, noNaN: true }), { minLength: n, maxLength: n });

  it("finds nobody stuck, and changes no price, while every quote holds still", () => {
    fc.assert(
      fc.property(
        sourceCount.chain((n) => offsets(n)),
        fc.integer({ min: 1, max: 30 }),
        (offsetPct, polls) => {
          const poll = sequence({ USD: offsetPct.length });
          const quotes = Object.fromEntries(offsetPct.map((o, i) => [`s${i}`, { USD: 100_000 * (1 + o / 100) }]));
          const first = poll(quotes);
          for (let i = 1; i < polls; i++) {
            const result = poll(quotes);
            expect(result.stuck).toEqual([]);
            expect(result.prices).toEqual(first.prices);
            expect(result.contributors).toEqual(first.contributors);
          }
        },
      ),
    );
  });

  it("finds no honest quote stuck in a still market where one source jumps away and others come and go", () => {
    fc.assert(
      fc.property(
        sourceCount.chain((n) => offsets(n)),
        fc.integer({ min: 0, max: 10 }),
        fc.constantFrom(0.1, 0.5, 3, 10),
        fc.array(fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), { minLength: 15, maxLength: 15 }),
        (offsetPct, jumpAt, factor, answering) => {
          const poll = sequence({ USD: offsetPct.length + 1 });
          const honest = offsetPct.map((o) => 100_000 * (1 + o / 100));
          answering.forEach((answers, i) => {
            const quotes: Record<string, Quotes> = {};
            honest.forEach((usd, s) => {
              // Every source answers the first poll; afterwards any honest one may fail for a poll.
              if (i === 0 || answers[s]) quotes[`s${s}`] = { USD: usd };
            });
            quotes.liar = { USD: i >= jumpAt ? 100_000 * factor : 100_000 };
            const result = poll(quotes);
            expect(result.stuck.filter((s) => s.source !== "liar")).toEqual([]);
          });
        },
      ),
    );
  });

  it("leaves a quote that froze out of the price within a few polls of a steady move, and publishes the others", () => {
    fc.assert(
      fc.property(
        sourceCount.chain((n) =>
          fc.tuple(offsets(n), fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: 5 })),
        ),
        fc.double({ min: 0.2, max: 0.5, noNaN: true }),
        fc.boolean(),
        ([offsetPct, frozen, calmPolls], stepPct, rising) => {
          const n = offsetPct.length;
          const poll = sequence({ USD: n });
          const names = offsetPct.map((_, i) => `s${i}`);
          let market = 100_000;
          let frozenAt: number | null = null;
          for (let i = 0; i < calmPolls + 12; i++) {
            if (i > calmPolls) market *= 1 + ((rising ? 1 : -1) * stepPct) / 100;
            const usd = names.map((_, s) => market * (1 + offsetPct[s]! / 100));
            if (i === calmPolls) frozenAt = usd[frozen]!;
            if (frozenAt !== null) usd[frozen] = frozenAt;
            const result = poll(Object.fromEntries(names.map((name, s) => [name, { USD: usd[s]! }])));
            // A few polls after the move began: the frozen quote is out, the others' median is published.
            if (i > calmPolls + STUCK_AFTER_POLLS + 1) {
              const movers = usd.filter((_, s) => s !== frozen);
              expect(result.sourcesByCurrency.USD ?? []).not.toContain(names[frozen]);
              expect(result.disputes).toEqual([]);
              expect(result.prices.USD).toBeCloseTo(median(movers), 1);
            }
          }
        },
      ),
    );
  });
});

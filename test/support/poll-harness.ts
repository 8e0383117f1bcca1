import { readConfig, type Config, type ConfigVars } from "../../src/config";
import { feedStatus, nextCondition, type FeedCondition } from "../../src/hub/feed-status";
import {
  initialPollerState,
  pollOnce,
  sourceHealthReport,
  type PollDeps,
  type PollOutcome,
  type SourceHealth,
} from "../../src/hub/poller";
import { nextTick } from "../../src/hub/publish";
import type { StatusMessage, Tick } from "../../src/protocol";
import { quotedBy } from "../../src/sources/registry";
import { installFakeUpstream, type FakeUpstreamInit } from "./fake-upstream";

/**
 * Sources at loopback test hosts, a 5 s interval, an explicit poll budget, and CoinDesk asked at
 * every poll like the others.
 */
export function testConfig(overrides: ConfigVars = {}): Config {
  return readConfig({
    PRICE_SOURCES: "coinbase,kraken,bitstamp",
    POLL_INTERVAL_MS: "5000",
    SOURCE_TIMEOUT_MS: "300",
    COINBASE_API_URL: "http://coinbase.test",
    KRAKEN_API_URL: "http://kraken.test",
    BITSTAMP_API_URL: "http://bitstamp.test",
    COINDESK_API_URL: "http://coindesk.test",
    COINDESK_MIN_INTERVAL_MS: "0",
    ...overrides,
  });
}

/** Time that only moves when a test (or an injected sleep) moves it. */
export interface FakeClock {
  now(): number;
  advance(ms: number): void;
  sleep(ms: number): Promise<void>;
  sleeps: number[];
}

export function fakeClock(startMs = Date.UTC(2026, 10, 24, 20, 0, 0)): FakeClock {
  let t = startMs;
  const sleeps: number[] = [];
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}

export interface Harness {
  deps: PollDeps;
  events: Record<string, unknown>[];
  eventsOf(name: string): Record<string, unknown>[];
}

/** Deps whose fetch goes through globalThis.fetch at call time, so installFakeUpstream() applies. */
export function pollHarness(config: Config, clock: FakeClock, random: () => number = () => 0.5): Harness {
  const events: Record<string, unknown>[] = [];
  return {
    deps: {
      config,
      fetch: (input, init) => globalThis.fetch(input, init),
      now: clock.now,
      sleep: clock.sleep,
      random,
      log: (event) => {
        JSON.stringify(event); // every event must be one JSON object
        events.push(event);
      },
    },
    events,
    eventsOf: (name) => events.filter((e) => e.event === name),
  };
}

/** One poll as the hub would publish it: the poll's outcome, the latest tick and the feed's status after it. */
export interface FeedStep {
  outcome: PollOutcome;
  /** The latest tick (this poll's, or an earlier one when nothing changed); null before the first. */
  tick: Tick | null;
  /** Whether this poll made a new tick. */
  published: boolean;
  status: StatusMessage;
  health: SourceHealth[];
}

/**
 * Polls in sequence through the real poller, then does what the hub does with each outcome (a tick
 * when something changed, the feed's status), without the hub. Each poll moves the clock on by one
 * poll interval once it is done.
 */
export function feedDriver(config: Config, clock: FakeClock) {
  const harness = pollHarness(config, clock);
  const quoted = quotedBy(config);
  let poller = initialPollerState();
  let tick: Tick | null = null;
  let condition: Partial<FeedCondition> & { startedAtMs: number } = { startedAtMs: clock.now() };
  const poll = async (): Promise<FeedStep> => {
    const outcome = await pollOnce(poller, harness.deps, tick?.prices ?? {});
    poller = JSON.parse(JSON.stringify(outcome.state)); // the hub stores it as JSON
    const fresh = Object.keys(outcome.prices).length > 0;
    const next = fresh
      ? nextTick(tick, outcome.prices, outcome.sources, (tick?.seq ?? 0) + 1, clock.now(), outcome.sourcesByCurrency)
      : null;
    if (next) tick = next;
    const result = { prices: outcome.prices, disputes: outcome.disputes };
    condition = {
      ...condition,
      ...nextCondition(condition, result, clock.now(), config.pollIntervalMs, (c) => quoted[c] > 0),
    };
    const health = sourceHealthReport(poller, config, clock.now());
    clock.advance(config.pollIntervalMs);
    return { outcome, tick, published: next !== null, status: feedStatus(condition), health };
  };
  return { harness, poll };
}

/** A feedDriver for PRICE_SOURCES=`sources` against the fake upstreams; restore `fake` after the test. */
export function fakeFeed(sources: string, init: FakeUpstreamInit = {}) {
  const clock = fakeClock();
  const fake = installFakeUpstream({ now: clock.now, ...init });
  return { fake, clock, ...feedDriver(testConfig({ PRICE_SOURCES: sources }), clock) };
}

import { readConfig, type Config, type ConfigVars } from "../../src/config";
import type { PollDeps } from "../../src/hub/poller";

/** Sources at loopback test hosts, a 5 s interval, an explicit poll budget, and CoinDesk asked at every poll like the others. */
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

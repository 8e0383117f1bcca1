/**
 * Fault injection per source through pollOnce against the fake upstreams: for every fault mode on
 * every source, the healthy sources keep giving the right median, nothing bogus is published, the
 * breaker moves closed → open → half-open → closed, and the health report says so.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  initialPollerState,
  pollOnce,
  sourceHealthReport,
  type PollerState,
  type SourceHealth,
} from "../../src/hub/poller";
import { SUPPORTED_CURRENCIES, type Currency } from "../../src/protocol";
import type { Quotes } from "../../src/sources/types";
import {
  FAKE_FX_PER_USD,
  installFakeUpstream,
  type FakeUpstreamController,
  type FaultMode,
  type UpstreamName,
} from "../support/fake-upstream";
import { fakeClock, pollHarness, testConfig } from "../support/poll-harness";

const SOURCES: UpstreamName[] = ["coinbase", "kraken", "bitstamp", "coindesk"];
const OFFSET_PCT: Record<UpstreamName, number> = { coinbase: 0, kraken: 0.5, bitstamp: 1, coindesk: 0.25 };
const PRICE_USD = 100_000;
const QUOTED: Record<UpstreamName, readonly Currency[]> = {
  coinbase: SUPPORTED_CURRENCIES,
  kraken: SUPPORTED_CURRENCIES,
  bitstamp: ["USD", "EUR", "GBP"],
  coindesk: SUPPORTED_CURRENCIES,
};
const INTERVAL_MS = 5000;

const config = testConfig({
  PRICE_SOURCES: SOURCES.join(","),
  COINDESK_API_KEY: "test-key",
  POLL_INTERVAL_MS: String(INTERVAL_MS),
  SOURCE_TIMEOUT_MS: "300",
});

/** Worked out independently of the code under test: sort, take the middle, round to cents (JPY: units). */
function expectedPrices(healthy: readonly UpstreamName[]): Quotes {
  const out: Quotes = {};
  for (const currency of SUPPORTED_CURRENCIES) {
    const values = healthy
      .filter((s) => QUOTED[s].includes(currency))
      .map((s) => PRICE_USD * FAKE_FX_PER_USD[currency]! * (1 + OFFSET_PCT[s] / 100))
      .sort((a, b) => a - b);
    const mid = values.length / 2;
    const middle = values.length % 2 ? values[Math.floor(mid)]! : (values[mid - 1]! + values[mid]!) / 2;
    const digits = currency === "JPY" ? 0 : 2;
    out[currency] = Math.round(middle * 10 ** digits) / 10 ** digits;
  }
  return out;
}

const EXPECTED_ERROR: Record<Exclude<FaultMode, "ok" | "outlier10x" | "stuck">, { kind: string; status?: number }> = {
  timeout: { kind: "timeout" },
  refused: { kind: "network" },
  "500": { kind: "http", status: 500 },
  "429": { kind: "rate_limited", status: 429 },
  malformed: { kind: "parse" },
  html: { kind: "parse" },
  zero: { kind: "parse" },
  negative: { kind: "parse" },
  nan: { kind: "parse" },
  kraken_error: { kind: "upstream" },
  "401": { kind: "http", status: 401 },
  frozen: { kind: "stale" },
};
const FAILING_MODES = Object.keys(EXPECTED_ERROR) as (keyof typeof EXPECTED_ERROR)[];
/** Only these date their quotes, so only these can be caught frozen. */
const DATED: readonly UpstreamName[] = ["bitstamp", "coindesk"];

const healthOf = (state: PollerState, nowMs: number, name: string): SourceHealth =>
  sourceHealthReport(state, config, nowMs).find((h) => h.name === name)!;

describe("pollOnce with one faulty source", () => {
  let fake: FakeUpstreamController | null = null;
  afterEach(() => {
    fake?.restore();
    fake = null;
  });

  const setUp = (faulty: UpstreamName, mode: FaultMode) => {
    const clock = fakeClock();
    fake = installFakeUpstream({ priceUsd: PRICE_USD, offsetPct: OFFSET_PCT, retryAfterS: 30, now: clock.now });
    fake.setMode(faulty, mode);
    const harness = pollHarness(config, clock);
    let state = initialPollerState();
    const poll = async () => {
      const outcome = await pollOnce(state, harness.deps);
      state = JSON.parse(JSON.stringify(outcome.state)); // the hub stores it as JSON
      return outcome;
    };
    return { fake, clock, harness, poll, state: () => state };
  };

  const cases = FAILING_MODES.flatMap((mode) =>
    SOURCES.filter((source) => mode !== "frozen" || DATED.includes(source)).map((source) => [mode, source] as const),
  );

  it.each(cases)("%s on %s: healthy sources carry the feed, the breaker opens and recovers", async (mode, faulty) => {
    const { fake, clock, harness, poll, state } = setUp(faulty, mode);
    const healthy = SOURCES.filter((s) => s !== faulty);
    const t0 = clock.now();

    const polls = mode === "429" ? 1 : 3;
    for (let i = 0; i < 3; i++) {
      const outcome = await poll();
      expect(outcome.prices).toEqual(expectedPrices(healthy));
      expect(outcome.sources).toEqual(healthy);
      expect(outcome.disputes).toEqual([]);
      clock.advance(INTERVAL_MS);
    }

    const failedHealth = healthOf(state(), clock.now(), faulty);
    expect(failedHealth).toMatchObject({
      enabled: true,
      state: "open",
      consecutiveFailures: polls,
      lastSuccessAt: null,
      lastError: EXPECTED_ERROR[mode],
      suspect: false,
    });
    for (const name of healthy) {
      expect(healthOf(state(), clock.now(), name)).toMatchObject({
        state: "closed",
        consecutiveFailures: 0,
        lastError: null,
      });
    }
    expect(harness.eventsOf("breaker_transition")).toEqual([
      expect.objectContaining({ source: faulty, from: "closed", to: "open" }),
    ]);
    expect(harness.eventsOf("source_failed").every((e) => e.source === faulty)).toBe(true);
    expect(harness.eventsOf("source_failed").at(-1)).toMatchObject({
      kind: EXPECTED_ERROR[mode].kind,
      willRetry: false,
    });

    // While open it is not asked at all.
    const asked = fake.requests(faulty);
    await poll();
    expect(fake.requests(faulty)).toBe(asked);

    // Once the cooldown (or Retry-After) has passed, one probe closes it again.
    const retryAtMs = Date.parse(failedHealth.retryAt!);
    if (mode === "429") expect(retryAtMs).toBe(t0 + 30_000);
    fake.setMode(faulty, "ok");
    clock.advance(retryAtMs - clock.now());
    expect(healthOf(state(), clock.now(), faulty).state).toBe("half-open");
    const recovered = await poll();
    expect(recovered.prices).toEqual(expectedPrices(SOURCES));
    expect(recovered.sources).toEqual(SOURCES);
    expect(healthOf(state(), clock.now(), faulty)).toMatchObject({
      state: "closed",
      consecutiveFailures: 0,
      lastSuccessAt: new Date(clock.now()).toISOString(),
    });
    expect(harness.eventsOf("breaker_transition").slice(-2)).toEqual([
      expect.objectContaining({ source: faulty, from: "open", to: "half-open" }),
      expect.objectContaining({ source: faulty, from: "half-open", to: "closed" }),
    ]);
  });

  it.each(SOURCES)("outlier10x on %s: dropped, marked suspect, re-admitted after agreeing 3 polls", async (faulty) => {
    const { fake, clock, harness, poll, state } = setUp(faulty, "outlier10x");
    const healthy = SOURCES.filter((s) => s !== faulty);

    for (let i = 0; i < 3; i++) {
      const outcome = await poll();
      expect(outcome.prices).toEqual(expectedPrices(healthy));
      expect(outcome.sources).toEqual(healthy);
      clock.advance(INTERVAL_MS);
    }
    expect(healthOf(state(), clock.now(), faulty)).toMatchObject({
      state: "closed",
      consecutiveFailures: 0,
      suspect: true,
      suspectCurrencies: [...QUOTED[faulty]],
    });
    const rejected = harness.eventsOf("outlier_rejected");
    expect(rejected.map((e) => e.currency)).toEqual([...QUOTED[faulty]]);
    expect(rejected.every((e) => e.source === faulty && (e.deviationPct as number) > 800)).toBe(true);

    fake.setMode(faulty, "ok");
    for (let i = 0; i < 3; i++) {
      const outcome = await poll(); // agreeing, but on probation
      expect(outcome.sources).toEqual(healthy);
      expect(outcome.prices).toEqual(expectedPrices(healthy));
      clock.advance(INTERVAL_MS);
    }
    expect(healthOf(state(), clock.now(), faulty).suspect).toBe(false);
    expect(harness.eventsOf("source_readmitted")).toHaveLength(QUOTED[faulty].length);
    const readmitted = await poll();
    expect(readmitted.sources).toEqual(SOURCES);
    expect(readmitted.prices).toEqual(expectedPrices(SOURCES));
  });

  it("publishes nothing and never throws when every source fails", async () => {
    fake = installFakeUpstream({ modes: { coinbase: "500", kraken: "refused", bitstamp: "html", coindesk: "401" } });
    const clock = fakeClock();
    const harness = pollHarness(config, clock);
    const outcome = await pollOnce(initialPollerState(), harness.deps);
    expect(outcome.prices).toEqual({});
    expect(outcome.sources).toEqual([]);
    expect(Object.keys(outcome.state.sources).sort()).toEqual([...SOURCES].sort());
    for (const s of SOURCES) expect(outcome.state.sources[s]!.lastError).not.toBeNull();
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { initialPollerState, pollOnce, sourceHealthReport, type PollerState } from "../../src/hub/poller";
import { SUPPORTED_CURRENCIES } from "../../src/protocol";
import { installFakeUpstream, type FakeUpstreamController } from "../support/fake-upstream";
import { fakeClock, pollHarness, testConfig, type FakeClock } from "../support/poll-harness";

describe("pollOnce", () => {
  let fake: FakeUpstreamController;
  afterEach(() => fake?.restore());

  const roundTrip = (state: PollerState): PollerState => JSON.parse(JSON.stringify(state));

  it("queries every enabled source and publishes the median of each currency", async () => {
    fake = installFakeUpstream({ priceUsd: 100_000, offsetPct: { coinbase: 0, kraken: 0.5, bitstamp: 1 } });
    const clock = fakeClock();
    const { deps, events } = pollHarness(testConfig(), clock);
    const outcome = await pollOnce(initialPollerState(), deps);
    expect(outcome.prices).toEqual({
      USD: 100_500,
      EUR: 90_450,
      GBP: 80_400,
      JPY: 15_037_500,
      CAD: 140_350,
      CHF: 87_718.75,
      AUD: 150_375,
    });
    expect(outcome.sources).toEqual(["coinbase", "kraken", "bitstamp"]);
    expect(outcome.disputes).toEqual([]);
    expect(events).toEqual([]);
    expect(roundTrip(outcome.state)).toEqual(outcome.state);
    expect(outcome.state.sources.kraken).toMatchObject({
      lastSuccessAtMs: clock.now(),
      lastRequestAtMs: clock.now(),
      lastLatencyMs: 0,
      lastError: null,
      breaker: { consecutiveFailures: 0, trips: 0, retryAtMs: null },
    });
    expect(fake.requests("bitstamp")).toBe(3);
    expect(fake.requests("coindesk")).toBe(0);
  });

  it("reports every source's health, the enabled ones first", async () => {
    fake = installFakeUpstream({ modes: { kraken: "500" } });
    const config = testConfig({ PRICE_SOURCES: "kraken,coinbase" });
    const clock = fakeClock();
    const { deps } = pollHarness(config, clock);
    const { state } = await pollOnce(initialPollerState(), deps);
    const report = sourceHealthReport(state, config, clock.now());
    expect(report.map((h) => [h.name, h.enabled])).toEqual([
      ["kraken", true],
      ["coinbase", true],
      ["coindesk", false],
      ["bitstamp", false],
      ["simulated", false],
    ]);
    expect(report[0]).toEqual({
      name: "kraken",
      enabled: true,
      state: "closed",
      consecutiveFailures: 1,
      retryAt: null,
      lastSuccessAt: null,
      lastError: {
        kind: "http",
        status: 500,
        message: "HTTP 500: Internal Server Error",
        at: new Date(clock.now()).toISOString(),
      },
      lastLatencyMs: 0,
      suspect: false,
      suspectCurrencies: [],
      stuckCurrencies: [],
    });
    expect(report[1]).toMatchObject({
      state: "closed",
      lastSuccessAt: new Date(clock.now()).toISOString(),
      lastError: null,
    });
  });

  it("publishes nothing new for currencies whose only two sources disagree, and says which", async () => {
    fake = installFakeUpstream({ offsetPct: { kraken: 5 } });
    const config = testConfig({ PRICE_SOURCES: "coinbase,kraken" });
    const { deps, eventsOf } = pollHarness(config, fakeClock());
    const outcome = await pollOnce(initialPollerState(), deps);
    expect(outcome.prices).toEqual({});
    expect(outcome.sources).toEqual([]);
    expect(outcome.disputes.map((d) => d.currency)).toEqual([...SUPPORTED_CURRENCIES]);
    expect(outcome.disputes[0]).toEqual({ currency: "USD", quotes: { coinbase: 100_000, kraken: 105_000 } });
    expect(eventsOf("price_disputed")).toHaveLength(SUPPORTED_CURRENCIES.length);
    expect(sourceHealthReport(outcome.state, config, 0).every((h) => !h.suspect)).toBe(true);
  });

  it("gives the simulated source a labelled, moving price", async () => {
    fake = installFakeUpstream();
    const config = testConfig({ PRICE_SOURCES: "simulated" });
    const clock = fakeClock();
    const { deps } = pollHarness(config, clock);
    const first = await pollOnce(initialPollerState(), deps);
    clock.advance(5000);
    const second = await pollOnce(first.state, deps);
    expect(first.sources).toEqual(["simulated"]);
    expect(Object.keys(first.prices)).toEqual([...SUPPORTED_CURRENCIES]);
    expect(second.prices.USD).not.toBe(first.prices.USD);
  });

  describe("never throws", () => {
    it("survives a fetch that throws synchronously and a logger that throws", async () => {
      const clock = fakeClock();
      const harness = pollHarness(testConfig(), clock);
      const outcome = await pollOnce(initialPollerState(), {
        ...harness.deps,
        fetch: () => {
          throw new Error("boom");
        },
        log: () => {
          throw new Error("log sink down");
        },
      });
      expect(outcome.prices).toEqual({});
      expect(outcome.state.sources.coinbase!.lastError).toMatchObject({ kind: "network", message: "boom" });
    });

    it("accepts a stored state of an older or damaged shape", async () => {
      fake = installFakeUpstream();
      const { deps } = pollHarness(testConfig(), fakeClock());
      const damaged = { sources: { kraken: {} } } as unknown as PollerState;
      expect((await pollOnce(damaged, deps)).prices.USD).toBe(100_000);
      expect((await pollOnce({} as PollerState, deps)).prices.USD).toBe(100_000);
    });

    it("returns an empty outcome when no source is enabled", async () => {
      const { deps } = pollHarness(testConfig({ PRICE_SOURCES: "coindesk,nonsense" }), fakeClock());
      expect(await pollOnce(initialPollerState(), deps)).toEqual({
        state: { sources: {} },
        prices: {},
        sources: [],
        sourcesByCurrency: {},
        disputes: [],
      });
    });
  });

  describe("retries", () => {
    /** Fails the first `failures` requests to a source with HTTP 500, then answers normally. */
    const failFirst = (
      clock: FakeClock,
      failures: number,
      config = testConfig({ PRICE_SOURCES: "coinbase", SOURCE_TIMEOUT_MS: "4000" }),
    ) => {
      fake = installFakeUpstream({ modes: { coinbase: "500", coindesk: "500" } });
      const harness = pollHarness(config, clock);
      harness.deps.fetch = async (input, init) => {
        const response = await globalThis.fetch(input, init);
        if (fake.requests("coinbase") + fake.requests("coindesk") >= failures) {
          fake.setMode("coinbase", "ok");
          fake.setMode("coindesk", "ok");
        }
        return response;
      };
      return harness;
    };

    it("retries a failed request after a backoff and succeeds within the poll", async () => {
      const clock = fakeClock();
      const t0 = clock.now();
      const { deps, eventsOf } = failFirst(clock, 1);
      const outcome = await pollOnce(initialPollerState(), deps);
      expect(outcome.prices.USD).toBe(100_000);
      expect(fake.requests("coinbase")).toBe(2);
      // Coinbase's minimum interval (500 ms) is longer than the first backoff step.
      expect(clock.sleeps).toEqual([500]);
      expect(eventsOf("source_failed")).toEqual([
        expect.objectContaining({ source: "coinbase", status: 500, attempt: 1, willRetry: true, retryInMs: 500 }),
      ]);
      expect(outcome.state.sources.coinbase).toMatchObject({
        breaker: { consecutiveFailures: 0 },
        lastSuccessAtMs: t0 + 500,
        lastRequestAtMs: t0 + 500,
        lastError: { kind: "http", status: 500, atMs: t0 },
      });
    });

    it("backs off exponentially with jitter", async () => {
      const config = testConfig({ PRICE_SOURCES: "coindesk", COINDESK_API_KEY: "k", SOURCE_TIMEOUT_MS: "4000" });
      for (const [random, expected] of [
        [0, [50, 100]],
        [1, [100, 200]],
      ] as const) {
        const clock = fakeClock();
        const harness = failFirst(clock, 99, config);
        harness.deps.random = () => random;
        const outcome = await pollOnce(initialPollerState(), harness.deps);
        expect(clock.sleeps).toEqual(expected);
        expect(fake.requests("coindesk")).toBe(3);
        expect(outcome.state.sources.coindesk!.breaker.consecutiveFailures).toBe(1);
        fake.restore();
      }
    });

    it("stops after the last attempt", async () => {
      const clock = fakeClock();
      const { deps, eventsOf } = failFirst(clock, 99);
      const outcome = await pollOnce(initialPollerState(), deps);
      expect(fake.requests("coinbase")).toBe(3);
      expect(clock.sleeps).toEqual([500, 500]);
      expect(eventsOf("source_failed").map((e) => e.willRetry)).toEqual([true, true, false]);
      expect(outcome.state.sources.coinbase!.breaker.consecutiveFailures).toBe(1);
    });

    it("only retries while the poll's budget remains", async () => {
      const clock = fakeClock();
      const { deps } = failFirst(clock, 99, testConfig({ PRICE_SOURCES: "coinbase", SOURCE_TIMEOUT_MS: "1000" }));
      await pollOnce(initialPollerState(), deps);
      // 0 ms: fails; 500 ms: fails; a third at 1000 ms would have no time left.
      expect(fake.requests("coinbase")).toBe(2);
    });

    it("does not retry after a slow failure ate the budget", async () => {
      const clock = fakeClock();
      const harness = failFirst(clock, 99);
      const inner = harness.deps.fetch;
      harness.deps.fetch = async (input, init) => {
        clock.advance(3500);
        return inner(input, init);
      };
      await pollOnce(initialPollerState(), harness.deps);
      expect(fake.requests("coinbase")).toBe(1);
    });

    it.each([
      ["401", "coindesk"],
      ["429", "kraken"],
      ["malformed", "coinbase"],
      ["kraken_error", "kraken"],
    ] as const)("does not retry %s on %s", async (mode, source) => {
      fake = installFakeUpstream({ modes: { [source]: mode } });
      const config = testConfig({ PRICE_SOURCES: source, COINDESK_API_KEY: "k", SOURCE_TIMEOUT_MS: "4000" });
      const clock = fakeClock();
      await pollOnce(initialPollerState(), pollHarness(config, clock).deps);
      expect(fake.requests(source)).toBe(1);
      expect(clock.sleeps).toEqual([]);
    });

    it("sends a half-open breaker exactly one probe, and doubles the cooldown when it fails", async () => {
      fake = installFakeUpstream({ modes: { coinbase: "500" } });
      const config = testConfig({ PRICE_SOURCES: "coinbase", SOURCE_TIMEOUT_MS: "4000" });
      const clock = fakeClock();
      const { deps, eventsOf } = pollHarness(config, clock);
      let state = initialPollerState();
      for (let i = 0; i < 3; i++) {
        state = (await pollOnce(state, deps)).state;
        clock.advance(5000);
      }
      const opened = state.sources.coinbase!.breaker;
      expect(opened).toMatchObject({ consecutiveFailures: 3, trips: 1 });
      clock.advance(opened.retryAtMs! - clock.now());
      const before = fake.requests("coinbase");
      state = (await pollOnce(state, deps)).state;
      expect(fake.requests("coinbase")).toBe(before + 1);
      expect(state.sources.coinbase!.breaker).toEqual({
        consecutiveFailures: 4,
        trips: 2,
        retryAtMs: clock.now() + 30_000,
      });
      expect(eventsOf("breaker_transition").map((e) => `${e.from}>${e.to}`)).toEqual([
        "closed>open",
        "open>half-open",
        "half-open>open",
      ]);
    });
  });

  describe("minimum intervals", () => {
    it("does not ask a source again before its minimum interval and reuses its recent quotes", async () => {
      fake = installFakeUpstream({ priceUsd: 100_000, offsetPct: { coinbase: 0, kraken: 0.5, bitstamp: 1 } });
      const clock = fakeClock();
      const { deps } = pollHarness(testConfig(), clock);
      const first = await pollOnce(initialPollerState(), deps);
      fake.setMode("kraken", "500"); // would fail if it were asked
      clock.advance(600); // past Coinbase's 500 ms and Bitstamp's 300 ms, short of Kraken's 1000 ms
      const second = await pollOnce(first.state, deps);
      expect(fake.requests("kraken")).toBe(1);
      expect(fake.requests("coinbase")).toBe(2);
      expect(second.sources).toEqual(["coinbase", "kraken", "bitstamp"]);
      expect(second.prices).toEqual(first.prices);
      expect(second.state.sources.kraken!.lastError).toBeNull();
    });

    it("reuses quotes for less than two poll intervals only", async () => {
      fake = installFakeUpstream();
      const config = testConfig({
        PRICE_SOURCES: "coinbase,coindesk",
        COINDESK_API_KEY: "k",
        COINDESK_MIN_INTERVAL_MS: "60000",
      });
      const clock = fakeClock();
      const { deps } = pollHarness(config, clock);
      const t0 = clock.now();
      let state = initialPollerState();
      let published = {};
      const contributors: string[][] = [];
      for (const atMs of [0, 5000, 10_000, 60_000]) {
        clock.advance(t0 + atMs - clock.now());
        // As the hub does: the last published prices are the lone source's reference.
        const outcome = await pollOnce(state, deps, published);
        state = outcome.state;
        published = { ...published, ...outcome.prices };
        contributors.push(outcome.sources);
      }
      expect(contributors).toEqual([
        ["coinbase", "coindesk"],
        ["coinbase", "coindesk"],
        ["coinbase"],
        ["coinbase", "coindesk"],
      ]);
      expect(fake.requests("coindesk")).toBe(2);
    });
  });
});

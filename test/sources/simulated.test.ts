import { describe, expect, it } from "vitest";
import { SUPPORTED_CURRENCIES } from "../../src/protocol";
import {
  SIMULATED_BASE_USD,
  SIMULATED_FX_PER_USD,
  simulated,
  simulatedQuotes,
  simulatedUsdPrice,
} from "../../src/sources/simulated";
import { testConfig } from "../support/poll-harness";

const T0 = Date.UTC(2026, 10, 24, 20, 0, 0);

describe("simulated", () => {
  it("is the same price at the same instant (no hidden state)", () => {
    expect(simulatedUsdPrice(T0, 0.0005)).toBe(simulatedUsdPrice(T0, 0.0005));
  });

  it("moves at every 5-second poll", () => {
    for (let i = 0; i < 50; i++) {
      const a = Math.round(simulatedUsdPrice(T0 + i * 5000, 0.0005) * 100);
      const b = Math.round(simulatedUsdPrice(T0 + (i + 1) * 5000, 0.0005) * 100);
      expect(a).not.toBe(b);
    }
  });

  it("stays positive and near its base over a day", () => {
    for (let t = T0; t < T0 + 86_400_000; t += 600_000) {
      const p = simulatedUsdPrice(t, 0.0005);
      expect(p).toBeGreaterThan(SIMULATED_BASE_USD * 0.5);
      expect(p).toBeLessThan(SIMULATED_BASE_USD * 1.5);
    }
  });

  it("is flat with zero volatility", () => {
    expect(simulatedUsdPrice(T0, 0)).toBe(SIMULATED_BASE_USD);
  });

  it("quotes every currency through fixed FX ratios", () => {
    const quotes = simulatedQuotes(T0, 0.0005, SUPPORTED_CURRENCIES);
    const usd = quotes.USD!;
    for (const c of SUPPORTED_CURRENCIES) expect(quotes[c]).toBeCloseTo(usd * SIMULATED_FX_PER_USD[c], 6);
  });

  it("answers from the poll's time as a source", async () => {
    const config = testConfig({ PRICE_SOURCES: "simulated" });
    const quotes = await simulated.fetchQuotes(["USD", "EUR"], {
      config,
      fetch: () => Promise.reject(new Error("the simulated source never fetches")),
      signal: new AbortController().signal,
      nowMs: T0,
    });
    expect(quotes).toEqual(simulatedQuotes(T0, config.simulatedVolatility, ["USD", "EUR"]));
  });
});

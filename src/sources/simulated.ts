import { SUPPORTED_CURRENCIES, type Currency } from "../protocol";
import { SourceError } from "./errors";
import type { PriceSource, Quotes } from "./types";

export const SIMULATED_BASE_USD = 65_000;

/** Fixed conversion rates: the simulated feed is for demos and load tests, not for FX. */
export const SIMULATED_FX_PER_USD: Record<Currency, number> = {
  USD: 1,
  EUR: 0.92,
  GBP: 0.79,
  JPY: 151,
  CAD: 1.38,
  CHF: 0.88,
  AUD: 1.52,
};

/** `volatility` is the typical relative move over this step, whatever the poll interval. */
const REFERENCE_STEP_MS = 5000;
const FINEST_PERIOD_MS = 1000;
/** Periods from 1 s to about 18 h: moves at every poll, drifts over the day. */
const OCTAVES = 17;

/**
 * A random walk that is a pure function of time, so it needs no state and survives hibernation:
 * octaves of value noise whose amplitudes grow with the square root of their period, as a
 * Brownian path's do. Deterministic: the same instant always gives the same price.
 */
export function simulatedUsdPrice(nowMs: number, volatility: number): number {
  let logReturn = 0;
  for (let octave = 0; octave < OCTAVES; octave++) {
    const periodMs = FINEST_PERIOD_MS * 2 ** octave;
    const amplitude = volatility * Math.sqrt(periodMs / REFERENCE_STEP_MS);
    logReturn += amplitude * valueNoise(octave, nowMs / periodMs);
  }
  return SIMULATED_BASE_USD * Math.exp(logReturn);
}

export function simulatedQuotes(nowMs: number, volatility: number, currencies: readonly Currency[]): Quotes {
  const usd = simulatedUsdPrice(nowMs, volatility);
  const quotes: Quotes = {};
  for (const currency of currencies) quotes[currency] = usd * SIMULATED_FX_PER_USD[currency];
  return quotes;
}

/** Smoothly interpolated pseudo-random values in [-1, 1] on an integer lattice. */
function valueNoise(octave: number, t: number): number {
  const i = Math.floor(t);
  const f = t - i;
  const smooth = f * f * (3 - 2 * f);
  const a = latticeValue(octave, i);
  const b = latticeValue(octave, i + 1);
  return a + (b - a) * smooth;
}

function latticeValue(octave: number, index: number): number {
  let h = Math.imul(index ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(octave + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return ((h >>> 0) / 0xffffffff) * 2 - 1;
}

export const simulated: PriceSource = {
  name: "simulated",
  currencies: SUPPORTED_CURRENCIES,
  minIntervalMs: () => 0,
  isEnabled: () => true,
  async fetchQuotes(currencies, ctx) {
    if (ctx.signal.aborted) throw new SourceError("timeout", "simulated: the poll was aborted");
    return simulatedQuotes(ctx.nowMs, ctx.config.simulatedVolatility, currencies);
  },
};

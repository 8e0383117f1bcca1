import type { Currency } from "./currencies";

/** One published price: the hub's unit of history, fan-out and replay. */
export interface Tick {
  /** Strictly increasing, never reused. */
  seq: number;
  /** Milliseconds since the epoch when the hub published it. */
  tsMs: number;
  prices: Partial<Record<Currency, number>>;
  /** Currencies whose price differs from the previous tick. */
  changed: Currency[];
  sources: string[];
}

/** A socket is sent a tick only when one of its currencies changed in it. */
export function tickConcerns(tick: Tick, currencies: readonly Currency[]): boolean {
  return currencies.some((c) => tick.changed.includes(c) && tick.prices[c] !== undefined);
}

export function pickPrices(
  prices: Partial<Record<Currency, number>>,
  currencies: readonly Currency[],
): Partial<Record<Currency, number>> {
  const out: Partial<Record<Currency, number>> = {};
  for (const c of currencies) {
    const p = prices[c];
    if (p !== undefined) out[c] = p;
  }
  return out;
}

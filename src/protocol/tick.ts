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
  /** Every source behind a price in this tick, sorted. */
  sources: string[];
  /** Only for currencies whose price came from other sources than `sources` (sorted each); absent when none. */
  currencySources?: Partial<Record<Currency, string[]>>;
}

/** A socket is sent a tick only when one of its currencies changed in it. */
export function tickConcerns(tick: Tick, currencies: readonly Currency[]): boolean {
  return currencies.some((c) => tick.changed.includes(c) && tick.prices[c] !== undefined);
}

/** The entries of the given currencies (prices, or anything else by currency), in the order given. */
export function pickPrices<T>(
  prices: Partial<Record<Currency, T>>,
  currencies: readonly Currency[],
): Partial<Record<Currency, T>> {
  const out: Partial<Record<Currency, T>> = {};
  for (const c of currencies) {
    const p = prices[c];
    if (p !== undefined) out[c] = p;
  }
  return out;
}

/** The per-currency sources of the given currencies, or undefined when none of them differs from `sources`. */
export function pickCurrencySources(
  tick: Pick<Tick, "currencySources">,
  currencies: readonly Currency[],
): Partial<Record<Currency, string[]>> | undefined {
  if (!tick.currencySources) return undefined;
  const out: Partial<Record<Currency, string[]>> = {};
  let any = false;
  for (const c of currencies) {
    const sources = tick.currencySources[c];
    if (sources) {
      out[c] = sources;
      any = true;
    }
  }
  return any ? out : undefined;
}

import type { Currency } from "./currencies";

/** One published price: the hub's unit of history, fan-out and replay. */
export interface Tick {
  /** Strictly increasing, never reused. */
  seq: number;
  /** Milliseconds since the epoch when the hub published it. */
  tsMs: number;
  prices: Partial<Record<Currency, number>>;
  /** Currencies whose price, or the sources behind it, differ from the previous tick. */
  changed: Currency[];
  /** Every source behind a price this tick renewed, sorted. */
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

/** The sources one currency's price in a tick came from. */
export function sourcesBehind(tick: Pick<Tick, "sources" | "currencySources">, currency: Currency): string[] {
  return tick.currencySources?.[currency] ?? tick.sources;
}

/** Whether two sorted lists of sources name the same ones. */
export const sameSources = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * What a message showing some currencies of a tick says about sources: `sources`, every source behind
 * one of their prices (sorted), and `bySource`, the currencies whose own sources are not all of those
 * (undefined when there are none). A source behind no shown price is not named.
 */
export function viewSources(
  tick: Pick<Tick, "prices" | "sources" | "currencySources">,
  currencies: readonly Currency[],
): { sources: string[]; bySource: Partial<Record<Currency, string[]>> | undefined } {
  const shown = currencies.filter((c) => tick.prices[c] !== undefined);
  // Every price from all of the tick's sources: the common case, and the one every frame of a tick asks.
  if (tick.currencySources === undefined) {
    return { sources: shown.length > 0 ? [...tick.sources] : [], bySource: undefined };
  }
  const sources = [...new Set(shown.flatMap((c) => sourcesBehind(tick, c)))].sort();
  const bySource: Partial<Record<Currency, string[]>> = {};
  let any = false;
  for (const c of shown) {
    const own = sourcesBehind(tick, c);
    if (own.length !== sources.length) {
      // `own` is a subset of `sources`: only its size can differ.
      bySource[c] = own;
      any = true;
    }
  }
  return { sources, bySource: any ? bySource : undefined };
}

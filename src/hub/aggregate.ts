import { SUPPORTED_CURRENCIES, type Currency } from "../protocol";
import type { Quotes } from "../sources/types";
import { deviationPct, median } from "./median";

/** What one source said this poll. */
export interface Observation {
  source: string;
  quotes: Quotes;
  /** False for quotes reused from an earlier poll: they count in the median, never towards re-admission. */
  fresh: boolean;
}

/**
 * The currencies a source is suspect for, each with how many polls in a row it has agreed since.
 * A currency absent from the map is trusted.
 */
export type SuspectStreaks = Partial<Record<Currency, number>>;

export interface AggregateOptions {
  maxDeviationPct: number;
  /** Agreeing polls in a row a suspect source needs before it counts again. */
  readmitAfter: number;
}

export const READMIT_AFTER_POLLS = 3;

export interface RejectedOutlier {
  source: string;
  currency: Currency;
  value: number;
  reference: number;
  deviationPct: number;
}

export interface Disagreement {
  currency: Currency;
  values: Record<string, number>;
}

export interface Aggregation {
  /** Rounded prices worth publishing; a currency without a trustworthy price is absent. */
  prices: Quotes;
  /** Sources whose values went into at least one published price, in observation order. */
  contributors: string[];
  /** Currencies left unpublished because the only two sources disagreed. */
  disputed: Currency[];
  /** The suspect map after this poll, for every source that appears in the input. */
  suspects: Record<string, SuspectStreaks>;
  rejected: RejectedOutlier[];
  readmitted: { source: string; currency: Currency }[];
  disagreements: Disagreement[];
}

interface Value {
  source: string;
  value: number;
  fresh: boolean;
}

const PRICE_DECIMALS: Record<Currency, number> = { USD: 2, EUR: 2, GBP: 2, JPY: 0, CAD: 2, CHF: 2, AUD: 2 };

/** Published precision, so float noise in a median is never a "change". */
export function roundPrice(currency: Currency, value: number): number {
  const factor = 10 ** PRICE_DECIMALS[currency];
  return Math.round(value * factor) / factor;
}

export function isSanePrice(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value > 0;
}

/**
 * With three or more values, repeatedly drops the one farthest from the median of the others while
 * that distance exceeds the limit. Dropping one at a time keeps a single wild value from dragging
 * the reference of the honest ones (with three, "the others" of an honest value include the liar).
 */
export function rejectOutliers<T extends { value: number }>(
  values: readonly T[],
  maxDeviationPct: number,
): { accepted: T[]; rejected: { item: T; reference: number; deviationPct: number }[] } {
  const accepted = [...values];
  const rejected: { item: T; reference: number; deviationPct: number }[] = [];
  while (accepted.length >= 3) {
    let worst = { index: -1, reference: NaN, deviationPct: -1 };
    for (let index = 0; index < accepted.length; index++) {
      const reference = median(accepted.filter((_, i) => i !== index).map((v) => v.value));
      const deviation = deviationPct(accepted[index]!.value, reference);
      if (deviation > worst.deviationPct) worst = { index, reference, deviationPct: deviation };
    }
    if (worst.deviationPct <= maxDeviationPct) break;
    const [item] = accepted.splice(worst.index, 1);
    rejected.push({ item: item!, reference: worst.reference, deviationPct: worst.deviationPct });
  }
  return { accepted, rejected };
}

/** How far two values lie apart, in percent of their mean. */
export function spreadPct(a: number, b: number): number {
  return deviationPct(a, (a + b) / 2) * 2;
}

function valuesFor(currency: Currency, observations: readonly Observation[]): Value[] {
  const out: Value[] = [];
  for (const o of observations) {
    const value = o.quotes[currency];
    if (isSanePrice(value)) out.push({ source: o.source, value, fresh: o.fresh });
  }
  return out;
}

/**
 * Per currency: the median of the trusted sources' sane values after outlier rejection. Sources
 * caught lying become suspect for that currency and are only compared, not counted, until they
 * have agreed `readmitAfter` polls in a row. Two sources that disagree publish nothing.
 */
export function aggregate(
  observations: readonly Observation[],
  previousSuspects: Readonly<Record<string, SuspectStreaks>>,
  options: AggregateOptions,
): Aggregation {
  const suspects: Record<string, SuspectStreaks> = {};
  for (const [source, streaks] of Object.entries(previousSuspects)) suspects[source] = { ...streaks };
  for (const o of observations) suspects[o.source] ??= {};

  const result: Aggregation = {
    prices: {},
    contributors: [],
    disputed: [],
    suspects,
    rejected: [],
    readmitted: [],
    disagreements: [],
  };
  const contributors = new Set<string>();

  for (const currency of SUPPORTED_CURRENCIES) {
    const values = valuesFor(currency, observations);
    const isSuspect = (v: Value) => suspects[v.source]?.[currency] !== undefined;
    const trusted = values.filter((v) => !isSuspect(v));
    const onProbation = values.filter((v) => isSuspect(v) && v.fresh);

    const { accepted, rejected } = rejectOutliers(trusted, options.maxDeviationPct);
    for (const r of rejected) {
      suspects[r.item.source]![currency] = 0;
      result.rejected.push({
        source: r.item.source,
        currency,
        value: r.item.value,
        reference: r.reference,
        deviationPct: r.deviationPct,
      });
    }

    let reference: number | null = null;
    if (accepted.length === 2 && spreadPct(accepted[0]!.value, accepted[1]!.value) > options.maxDeviationPct) {
      result.disputed.push(currency);
      result.disagreements.push({
        currency,
        values: Object.fromEntries(accepted.map((v) => [v.source, v.value])),
      });
    } else if (accepted.length > 0) {
      reference = median(accepted.map((v) => v.value));
      result.prices[currency] = roundPrice(currency, reference);
      for (const v of accepted) contributors.add(v.source);
    }

    if (reference === null) continue;
    for (const v of onProbation) {
      const streaks = suspects[v.source]!;
      const agreed = deviationPct(v.value, reference) <= options.maxDeviationPct;
      const streak = agreed ? (streaks[currency] ?? 0) + 1 : 0;
      if (streak >= options.readmitAfter) {
        delete streaks[currency];
        result.readmitted.push({ source: v.source, currency });
      } else {
        streaks[currency] = streak;
      }
    }
  }

  result.contributors = observations.map((o) => o.source).filter((s) => contributors.has(s));
  return result;
}

import { SUPPORTED_CURRENCIES, type Currency, type Dispute } from "../protocol";
import type { Quotes } from "../sources/types";
import { deviationPct, median } from "./median";
import { nextRuns, stuckRule, type QuoteRuns, type StuckRule } from "./stuck";

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
  /** When a quote that holds still is stuck; `stuckRule(maxDeviationPct)` when absent. */
  stuck?: StuckRule;
}

export const READMIT_AFTER_POLLS = 3;

/** What the aggregation needs to know beyond this poll's quotes. */
export interface PriceContext {
  /** Each currency's last published price: the tie-break's reference. */
  lastPrices: Quotes;
  /**
   * How many enabled sources quote each currency. A currency only one of them quotes has no
   * cross-check to lose, so its lone source is published as is, unless it is suspect elsewhere.
   */
  quotedBy: Partial<Record<Currency, number>>;
  /** Each source's quote runs before this poll (see stuck.ts); without them every run starts now. */
  quoteRuns?: Readonly<Record<string, QuoteRuns>>;
}

export interface RejectedOutlier {
  source: string;
  currency: Currency;
  value: number;
  reference: number;
  deviationPct: number;
  /** `others`: the median of the other sources; `last_price`: the tie-break between two on history. */
  against: "others" | "last_price";
}

export interface Aggregation {
  /** Rounded prices worth publishing; a currency without a trustworthy price is absent. */
  prices: Quotes;
  /** Sources whose values went into at least one published price, in observation order. */
  contributors: string[];
  /** For every published currency, the sources its price came from, in observation order. */
  sourcesByCurrency: Partial<Record<Currency, string[]>>;
  /** Currencies whose sources answered but whose price could not be confirmed. */
  disputes: Dispute[];
  /** The suspect map after this poll, for every source that appears in the input. */
  suspects: Record<string, SuspectStreaks>;
  rejected: RejectedOutlier[];
  readmitted: { source: string; currency: Currency }[];
  /** The quote runs after this poll, for every source that appears in the input. */
  quoteRuns: Record<string, QuoteRuns>;
  /** Quotes found stuck in this poll (a quote already stuck before is not repeated). */
  stuck: { source: string; currency: Currency; value: number }[];
}

/** One source's sane value for one currency. */
export interface Value {
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

/** A price the rules could confirm, the values it came from, and a source the tie-break overruled. */
interface Decision {
  value: number;
  from: Value[];
  overruled: Value | null;
}

const within = (value: number, reference: number, maxDeviationPct: number) =>
  deviationPct(value, reference) <= maxDeviationPct;

/**
 * The price of one currency from its trusted values left after outlier rejection, or null when none
 * can be confirmed:
 * - three or more (they agree, outliers are gone), or two that agree: their median;
 * - two that disagree: the one within the limit of the last published price, if exactly one is;
 * - one that nothing can check (`unchecked`: no other enabled source quotes the currency, and its
 *   source is suspect for no other currency): as is;
 * - any other one: only while it stays within the limit of the last published price, or a source on
 *   probation agrees with it (the price really moved).
 */
export function decide(
  accepted: readonly Value[],
  onProbation: readonly Value[],
  last: number | undefined,
  unchecked: boolean,
  maxDeviationPct: number,
): Decision | null {
  const [first, second] = accepted;
  if (!first) return null;
  const middle = (): Decision => ({
    value: median(accepted.map((v) => v.value)),
    from: [...accepted],
    overruled: null,
  });
  if (accepted.length >= 3) return middle();
  if (second) {
    if (spreadPct(first.value, second.value) <= maxDeviationPct) return middle();
    if (last === undefined) return null;
    const near = accepted.filter((v) => within(v.value, last, maxDeviationPct));
    if (near.length !== 1) return null;
    const winner = near[0]!;
    return { value: winner.value, from: [winner], overruled: winner === first ? second : first };
  }
  const alone: Decision = { value: first.value, from: [first], overruled: null };
  if (unchecked) return alone;
  if (last !== undefined && within(first.value, last, maxDeviationPct)) return alone;
  if (onProbation.some((v) => spreadPct(v.value, first.value) <= maxDeviationPct)) return alone;
  return null;
}

/**
 * Per currency: a price from the trusted sources' sane values after outlier rejection (see `decide`).
 * Sources caught lying, or quoting a stuck value (see stuck.ts), become suspect for that currency
 * and are only compared, not counted, until they have agreed `readmitAfter` polls in a row with
 * a quote that is not stuck. A currency with sane values but no price is disputed.
 * Currencies other sources cross-check go first, so a source caught on any of them this poll is
 * not trusted alone with a currency nobody else quotes.
 */
export function aggregate(
  observations: readonly Observation[],
  previousSuspects: Readonly<Record<string, SuspectStreaks>>,
  options: AggregateOptions,
  context: PriceContext,
): Aggregation {
  const suspects: Record<string, SuspectStreaks> = {};
  for (const [source, streaks] of Object.entries(previousSuspects)) suspects[source] = { ...streaks };
  for (const o of observations) suspects[o.source] ??= {};
  const previousRuns = context.quoteRuns ?? {};
  const quoteRuns: Record<string, QuoteRuns> = {};
  for (const [source, runs] of Object.entries(previousRuns)) quoteRuns[source] = { ...runs };
  for (const o of observations) quoteRuns[o.source] ??= {};
  const rule = options.stuck ?? stuckRule(options.maxDeviationPct);

  const result: Aggregation = {
    prices: {},
    contributors: [],
    sourcesByCurrency: {},
    disputes: [],
    suspects,
    rejected: [],
    readmitted: [],
    quoteRuns,
    stuck: [],
  };
  const contributors = new Set<string>();
  const crossChecked = (c: Currency) => (context.quotedBy[c] ?? 0) > 1;
  const order = [...SUPPORTED_CURRENCIES.filter(crossChecked), ...SUPPORTED_CURRENCIES.filter((c) => !crossChecked(c))];

  for (const currency of order) {
    const values = valuesFor(currency, observations);
    followRuns(
      currency,
      values.filter((v) => v.fresh),
      previousRuns,
      rule,
      result,
    );
    const isStuck = (v: Value) => {
      const run = quoteRuns[v.source]?.[currency];
      return run?.stuck === true && run.value === v.value;
    };
    const isSuspect = (v: Value) => suspects[v.source]?.[currency] !== undefined || isStuck(v);
    const trusted = values.filter((v) => !isSuspect(v));
    const onProbation = values.filter((v) => isSuspect(v) && v.fresh && !isStuck(v));

    const { accepted, rejected } = rejectOutliers(trusted, options.maxDeviationPct);
    for (const r of rejected) {
      suspects[r.item.source]![currency] = 0;
      result.rejected.push({
        source: r.item.source,
        currency,
        value: r.item.value,
        reference: r.reference,
        deviationPct: r.deviationPct,
        against: "others",
      });
    }

    const last = context.lastPrices[currency];
    const lone = accepted.length === 1 ? accepted[0]! : null;
    const unchecked = !crossChecked(currency) && lone !== null && Object.keys(suspects[lone.source]!).length === 0;
    const decision = decide(accepted, onProbation, last, unchecked, options.maxDeviationPct);
    if (!decision) {
      if (values.length > 0) {
        result.disputes.push({
          currency,
          quotes: Object.fromEntries(values.map((v) => [v.source, roundPrice(currency, v.value)])),
        });
      }
      continue;
    }
    if (decision.overruled && last !== undefined) {
      const loser = decision.overruled;
      suspects[loser.source]![currency] = 0;
      result.rejected.push({
        source: loser.source,
        currency,
        value: loser.value,
        reference: last,
        deviationPct: deviationPct(loser.value, last),
        against: "last_price",
      });
      const winner = decision.from[0]!;
      const run = quoteRuns[winner.source]?.[currency];
      if (run && run.value === winner.value && !run.overruled.includes(loser.source)) {
        quoteRuns[winner.source]![currency] = { ...run, overruled: [...run.overruled, loser.source] };
      }
    }
    const reference = decision.value;
    result.prices[currency] = roundPrice(currency, reference);
    result.sourcesByCurrency[currency] = decision.from.map((v) => v.source);
    for (const v of decision.from) contributors.add(v.source);

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
  result.prices = inCurrencyOrder(result.prices);
  result.sourcesByCurrency = inCurrencyOrder(result.sourcesByCurrency);
  result.disputes.sort((a, b) => SUPPORTED_CURRENCIES.indexOf(a.currency) - SUPPORTED_CURRENCIES.indexOf(b.currency));
  return result;
}

/**
 * Moves on the quote runs of one currency's fresh values. A quote found stuck makes its source
 * suspect, and clears the sources it beat on history: they were right after all.
 */
function followRuns(
  currency: Currency,
  fresh: readonly Value[],
  previousRuns: Readonly<Record<string, QuoteRuns>>,
  rule: StuckRule,
  result: Aggregation,
): void {
  const { quoteRuns, suspects } = result;
  const runs = nextRuns(
    fresh.map((v) => ({ source: v.source, value: v.value, previous: previousRuns[v.source]?.[currency] })),
    rule,
  );
  fresh.forEach((v, i) => {
    const run = runs[i]!;
    quoteRuns[v.source]![currency] = run;
    if (!run.stuck) return;
    suspects[v.source]![currency] = 0;
    if (previousRuns[v.source]?.[currency]?.stuck) return;
    result.stuck.push({ source: v.source, currency, value: v.value });
    for (const loser of run.overruled) {
      if (suspects[loser]?.[currency] === undefined) continue;
      delete suspects[loser]![currency];
      result.readmitted.push({ source: loser, currency });
    }
  });
}

function inCurrencyOrder<T>(byCurrency: Partial<Record<Currency, T>>): Partial<Record<Currency, T>> {
  const out: Partial<Record<Currency, T>> = {};
  for (const c of SUPPORTED_CURRENCIES) if (byCurrency[c] !== undefined) out[c] = byCurrency[c];
  return out;
}

import { pollBudgetMs, type Config } from "../config";
import { SUPPORTED_CURRENCIES, type Currency, type Dispute } from "../protocol";
import { isRetryable, parseError, toSourceError, type SourceError } from "../sources/errors";
import { enabledSources, quotedBy } from "../sources/registry";
import type { PriceSource, Quotes } from "../sources/types";
import { aggregate, isSanePrice, READMIT_AFTER_POLLS, type Aggregation, type Observation } from "./aggregate";
import { breakerPhase, recordFailure, recordSuccess, requestDecision, type BreakerState } from "./breaker";
import { budgetSignal, defaultSleep, untilAborted } from "./deadline";
import { backoffDelayMs, fitsInBudget, RETRY_POLICY } from "./retry";
import { sourceStateOf, type PollerState, type SourceState } from "./source-state";

export { initialPollerState, type PollerState, type SourceState, type SourceErrorRecord } from "./source-state";
export { sourceHealthReport, type SourceHealth } from "./source-health";

export interface PollDeps {
  config: Config;
  fetch: typeof fetch;
  now: () => number;
  /** One JSON object per event: source failures, breaker transitions, outliers, stuck quotes. */
  log: (event: Record<string, unknown>) => void;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface PollOutcome {
  state: PollerState;
  /** Fresh aggregated prices from this poll, rounded; empty when nothing trustworthy came back. */
  prices: Quotes;
  /** Sources whose values went into `prices`, including one whose recent quotes were reused. */
  sources: string[];
  /** For each currency in `prices`, the sources its price came from. */
  sourcesByCurrency: Partial<Record<Currency, string[]>>;
  /** Currencies whose sources answered but whose price could not be confirmed. */
  disputes: Dispute[];
}

/**
 * Quotes a source gave within the last two poll intervals may stand in for it while its minimum
 * interval keeps it from being asked (e.g. CoinDesk on a tight quota): the median keeps the same
 * set of sources from poll to poll instead of jumping when one sits a poll out.
 */
export const REUSE_QUOTES_FOR_INTERVALS = 2;

interface PollContext {
  deps: PollDeps;
  signal: AbortSignal;
  deadlineMs: number;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
}

interface SourceResult {
  name: string;
  state: SourceState;
  observation: Observation | null;
}

/**
 * One poll: every enabled source in parallel within the poll's time budget, then aggregation against
 * the last published prices (`lastPrices`, the tie-break's reference).
 * Never throws; every failure ends up in the returned state and in a log event.
 */
export async function pollOnce(prev: PollerState, deps: PollDeps, lastPrices: Quotes = {}): Promise<PollOutcome> {
  try {
    return await poll(prev, deps, lastPrices);
  } catch (err) {
    safeLog(deps, { event: "poll_failed", message: err instanceof Error ? err.message : String(err) });
    return { state: prev, prices: {}, sources: [], sourcesByCurrency: {}, disputes: [] };
  }
}

async function poll(prev: PollerState, deps: PollDeps, lastPrices: Quotes): Promise<PollOutcome> {
  const budgetMs = pollBudgetMs(deps.config);
  const budget = budgetSignal(budgetMs);
  try {
    const ctx: PollContext = {
      deps,
      signal: budget.signal,
      deadlineMs: deps.now() + budgetMs,
      random: deps.random ?? Math.random,
      sleep: deps.sleep ?? defaultSleep,
    };
    const results = await Promise.all(
      enabledSources(deps.config).map((source) => pollSource(source, sourceStateOf(prev, source.name), ctx)),
    );
    const sources: Record<string, SourceState> = { ...prev.sources };
    for (const r of results) sources[r.name] = r.state;

    const aggregation = aggregate(
      results.flatMap((r) => (r.observation ? [r.observation] : [])),
      Object.fromEntries(results.map((r) => [r.name, r.state.suspect])),
      { maxDeviationPct: deps.config.maxDeviationPct, readmitAfter: READMIT_AFTER_POLLS },
      {
        lastPrices,
        quotedBy: quotedBy(deps.config),
        quoteRuns: Object.fromEntries(results.map((r) => [r.name, r.state.quoteRuns])),
      },
    );
    for (const r of results) {
      sources[r.name] = {
        ...r.state,
        suspect: aggregation.suspects[r.name] ?? {},
        quoteRuns: aggregation.quoteRuns[r.name] ?? {},
      };
    }
    logAggregation(deps, aggregation);

    return {
      state: { sources },
      prices: aggregation.prices,
      sources: aggregation.contributors,
      sourcesByCurrency: aggregation.sourcesByCurrency,
      disputes: aggregation.disputes,
    };
  } finally {
    budget.dispose();
  }
}

async function pollSource(source: PriceSource, state: SourceState, ctx: PollContext): Promise<SourceResult> {
  const { deps } = ctx;
  const nowMs = deps.now();
  const minIntervalMs = source.minIntervalMs(deps.config);
  const decision = requestDecision(state.breaker, state.lastRequestAtMs, minIntervalMs, nowMs);
  if (decision === "skip_open") return { name: source.name, state, observation: null };
  if (decision === "skip_min_interval") {
    return { name: source.name, state, observation: reusableQuotes(source.name, state, deps.config, nowMs) };
  }
  if (decision === "probe") logTransition(deps, source.name, "open", "half-open", state.breaker);

  const currencies = SUPPORTED_CURRENCIES.filter((c) => source.currencies.includes(c));
  const maxAttempts = decision === "probe" ? 1 : RETRY_POLICY.maxAttempts;
  let current = state;
  for (let attempt = 1; ; attempt++) {
    const startedAtMs = deps.now();
    current = { ...current, lastRequestAtMs: startedAtMs };
    try {
      const quotes = await untilAborted(
        source.fetchQuotes(currencies, {
          config: deps.config,
          fetch: deps.fetch,
          signal: ctx.signal,
          nowMs: startedAtMs,
        }),
        ctx.signal,
      );
      return succeeded(source.name, current, onlySane(quotes, currencies), startedAtMs, deps);
    } catch (err) {
      const error = toSourceError(err, ctx.signal);
      const atMs = deps.now();
      current = {
        ...current,
        lastLatencyMs: atMs - startedAtMs,
        lastError: { kind: error.kind, ...statusOf(error), message: error.message, atMs },
      };
      const delayMs = backoffDelayMs(attempt, ctx.random, minIntervalMs);
      const retry =
        attempt < maxAttempts &&
        isRetryable(error) &&
        !ctx.signal.aborted &&
        fitsInBudget(atMs, delayMs, ctx.deadlineMs);
      safeLog(deps, {
        event: "source_failed",
        source: source.name,
        kind: error.kind,
        ...statusOf(error),
        ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
        message: error.message,
        attempt,
        latencyMs: atMs - startedAtMs,
        willRetry: retry,
        ...(retry ? { retryInMs: delayMs } : {}),
      });
      if (retry) {
        await ctx.sleep(delayMs);
        continue;
      }
      return failed(source.name, current, error, atMs, deps);
    }
  }
}

function succeeded(
  name: string,
  state: SourceState,
  quotes: Quotes,
  startedAtMs: number,
  deps: PollDeps,
): SourceResult {
  const atMs = deps.now();
  const before = breakerPhase(state.breaker, atMs);
  if (before !== "closed") logTransition(deps, name, before, "closed", recordSuccess());
  return {
    name,
    state: {
      ...state,
      breaker: recordSuccess(),
      lastSuccessAtMs: atMs,
      lastLatencyMs: atMs - startedAtMs,
      lastQuotes: quotes,
      lastQuotesAtMs: atMs,
    },
    observation: { source: name, quotes, fresh: true },
  };
}

function failed(name: string, state: SourceState, error: SourceError, atMs: number, deps: PollDeps): SourceResult {
  const before = breakerPhase(state.breaker, atMs);
  const breaker = recordFailure(state.breaker, atMs, error);
  const after = breakerPhase(breaker, atMs);
  if (after !== before) logTransition(deps, name, before, after, breaker);
  return { name, state: { ...state, breaker }, observation: null };
}

function reusableQuotes(name: string, state: SourceState, config: Config, nowMs: number): Observation | null {
  if (state.lastQuotes === null || state.lastQuotesAtMs === null) return null;
  if (nowMs - state.lastQuotesAtMs >= REUSE_QUOTES_FOR_INTERVALS * config.pollIntervalMs) return null;
  return { source: name, quotes: state.lastQuotes, fresh: false };
}

/** Parsers already reject bad prices; this keeps a buggy source from slipping one past them. */
function onlySane(quotes: Quotes, asked: readonly Currency[]): Quotes {
  const out: Quotes = {};
  for (const currency of asked) {
    const value = quotes[currency];
    if (isSanePrice(value)) out[currency] = value;
  }
  if (Object.keys(out).length === 0) throw parseError("no usable price in the answer");
  return out;
}

function statusOf(error: SourceError): { status?: number } {
  return error.status === undefined ? {} : { status: error.status };
}

function logTransition(deps: PollDeps, source: string, from: string, to: string, breaker: BreakerState): void {
  safeLog(deps, {
    event: "breaker_transition",
    source,
    from,
    to,
    consecutiveFailures: breaker.consecutiveFailures,
    ...(breaker.retryAtMs === null ? {} : { retryAt: new Date(breaker.retryAtMs).toISOString() }),
  });
}

function logAggregation(deps: PollDeps, aggregation: Aggregation): void {
  for (const r of aggregation.stuck) safeLog(deps, { event: "quote_stuck", ...r });
  for (const r of aggregation.rejected) safeLog(deps, { event: "outlier_rejected", ...r });
  for (const r of aggregation.readmitted) safeLog(deps, { event: "source_readmitted", ...r });
  for (const d of aggregation.disputes) safeLog(deps, { event: "price_disputed", ...d });
}

function safeLog(deps: PollDeps, event: Record<string, unknown>): void {
  try {
    deps.log(event);
  } catch {
    // A broken logger must not break the poll.
  }
}

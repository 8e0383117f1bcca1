import type { Quotes } from "../sources/types";
import type { SourceErrorKind } from "../sources/errors";
import type { SuspectStreaks } from "./aggregate";
import { closedBreaker, type BreakerState } from "./breaker";
import type { QuoteRuns } from "./stuck";

export interface SourceErrorRecord {
  kind: SourceErrorKind;
  status?: number;
  message: string;
  atMs: number;
}

/** What the poller remembers about one source between polls. Plain JSON: the hub stores it as is. */
export interface SourceState {
  breaker: BreakerState;
  suspect: SuspectStreaks;
  /** Per currency, how long its quote has held still (stuck quotes). */
  quoteRuns: QuoteRuns;
  /** Start of the last attempt, retries included: the source's minimum interval counts from here. */
  lastRequestAtMs: number | null;
  lastSuccessAtMs: number | null;
  lastError: SourceErrorRecord | null;
  lastLatencyMs: number | null;
  lastQuotes: Quotes | null;
  lastQuotesAtMs: number | null;
}

export interface PollerState {
  sources: Record<string, SourceState>;
}

export function initialPollerState(): PollerState {
  return { sources: {} };
}

export function initialSourceState(): SourceState {
  return {
    breaker: closedBreaker(),
    suspect: {},
    quoteRuns: {},
    lastRequestAtMs: null,
    lastSuccessAtMs: null,
    lastError: null,
    lastLatencyMs: null,
    lastQuotes: null,
    lastQuotesAtMs: null,
  };
}

/** A source's state; fields missing from an older stored shape take their initial values. */
export function sourceStateOf(state: PollerState, name: string): SourceState {
  const stored = state.sources?.[name];
  if (!stored) return initialSourceState();
  const initial = initialSourceState();
  return { ...initial, ...stored, breaker: { ...initial.breaker, ...stored.breaker } };
}

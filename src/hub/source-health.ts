import type { Config } from "../config";
import { SUPPORTED_CURRENCIES, type Currency } from "../protocol";
import type { SourceErrorKind } from "../sources/errors";
import { ALL_SOURCES, enabledSources } from "../sources/registry";
import { breakerPhase, type BreakerPhase } from "./breaker";
import { sourceStateOf, type PollerState } from "./source-state";

/** One source as /health shows it. */
export interface SourceHealth {
  name: string;
  enabled: boolean;
  state: BreakerPhase;
  consecutiveFailures: number;
  /** While open or half-open: when the breaker lets the next probe through. */
  retryAt: string | null;
  lastSuccessAt: string | null;
  lastError: { kind: SourceErrorKind; status?: number; message: string; at: string } | null;
  lastLatencyMs: number | null;
  /** True while the source is suspect for any currency (its values there are not counted). */
  suspect: boolean;
  suspectCurrencies: Currency[];
  /** Currencies whose quote is stuck: it held still while the other sources moved (suspect too). */
  stuckCurrencies: Currency[];
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Every known source: the enabled ones first in PRICE_SOURCES order, then the others. */
export function sourceHealthReport(state: PollerState, config: Config, nowMs: number): SourceHealth[] {
  const enabled = enabledSources(config);
  const ordered = [...enabled, ...ALL_SOURCES.filter((s) => !enabled.includes(s))];
  return ordered.map((source) => {
    const s = sourceStateOf(state, source.name);
    const suspectCurrencies = Object.keys(s.suspect) as Currency[];
    return {
      name: source.name,
      enabled: enabled.includes(source),
      state: breakerPhase(s.breaker, nowMs),
      consecutiveFailures: s.breaker.consecutiveFailures,
      retryAt: iso(s.breaker.retryAtMs),
      lastSuccessAt: iso(s.lastSuccessAtMs),
      lastError: s.lastError && {
        kind: s.lastError.kind,
        ...(s.lastError.status === undefined ? {} : { status: s.lastError.status }),
        message: s.lastError.message,
        at: iso(s.lastError.atMs)!,
      },
      lastLatencyMs: s.lastLatencyMs,
      suspect: suspectCurrencies.length > 0,
      suspectCurrencies,
      stuckCurrencies: SUPPORTED_CURRENCIES.filter((c) => s.quoteRuns[c]?.stuck === true),
    };
  });
}

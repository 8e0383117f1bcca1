import type { Config } from "../config";
import { SUPPORTED_CURRENCIES, type Currency, type SourceHealth } from "../protocol";
import { ALL_SOURCES, enabledSources } from "../sources/registry";
import { breakerPhase } from "./breaker";
import { sourceStateOf, type PollerState } from "./source-state";

export type { SourceHealth };

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

import type { Config } from "../config";
import { enabledSources } from "../sources/registry";
import { simulated } from "../sources/simulated";

/**
 * Whether a history holds real prices or the simulated walk. The two never share one: a tie-break on
 * a simulated last price would reject the real one, and a replay would mix them.
 */
export type SourceKind = "simulated" | "real";

/** The kind of prices these sources give; null for no source. Any simulated source makes them simulated. */
export function sourceKindOf(sources: readonly string[]): SourceKind | null {
  if (sources.length === 0) return null;
  return sources.includes(simulated.name) ? "simulated" : "real";
}

export function configuredSourceKind(config: Config): SourceKind | null {
  return sourceKindOf(enabledSources(config).map((s) => s.name));
}

/** A history made by `recorded` cannot go on with `configured` sources. Unknown on either side: it can. */
export function needsNewHistory(recorded: SourceKind | null, configured: SourceKind | null): boolean {
  return recorded !== null && configured !== null && recorded !== configured;
}

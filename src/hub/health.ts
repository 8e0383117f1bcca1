import type { Config } from "../config";
import type { Currency, Tick } from "../protocol";
import type { HubState } from "./hub-state";
import { sourceHealthReport, type PollerState, type SourceHealth } from "./poller";
import { isStale } from "./publish";
import type { HttpReadsReport } from "./read-counter";

export interface HubHealth {
  ok: boolean;
  status: "live" | "stale";
  last_poll: string | null;
  last_fresh_price: string | null;
  last_tick: { seq: number; time: string } | null;
  stale_since: string | null;
  suspect: Currency[];
  subscribers: number;
  poll_interval_ms: number;
  next_poll: string | null;
  last_fanout: HubState["lastFanout"];
  sources: SourceHealth[];
  /** The hub's calls from the HTTP side since its instance started (edge-cache misses). */
  http_reads: HttpReadsReport;
}

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

export function buildHealth(input: {
  config: Config;
  state: HubState;
  poller: PollerState;
  latest: Tick | null;
  subscribers: number;
  alarmAtMs: number | null;
  httpReads: HttpReadsReport;
  nowMs: number;
}): HubHealth {
  const { config, state, nowMs } = input;
  // Stale as the loop last declared it, or because the loop itself stopped producing fresh prices.
  const stale =
    state.staleSinceMs !== null || isStale(state.lastFreshAtMs ?? state.startedAtMs, nowMs, config.pollIntervalMs);
  return {
    ok: !stale,
    status: stale ? "stale" : "live",
    last_poll: iso(state.lastPollAtMs),
    last_fresh_price: iso(state.lastFreshAtMs),
    last_tick: input.latest ? { seq: input.latest.seq, time: iso(input.latest.tsMs)! } : null,
    stale_since: stale ? iso(state.staleSinceMs ?? state.lastFreshAtMs ?? state.startedAtMs) : null,
    suspect: state.suspect,
    subscribers: input.subscribers,
    poll_interval_ms: config.pollIntervalMs,
    next_poll: iso(input.alarmAtMs),
    last_fanout: state.lastFanout,
    sources: sourceHealthReport(input.poller, config, nowMs),
    http_reads: input.httpReads,
  };
}

import type { Config } from "../config";
import type { HubHealth, Tick } from "../protocol";
import type { HubState } from "./hub-state";
import { sourceHealthReport, type PollerState } from "./poller";
import { isStale } from "./publish";
import type { CallCounts } from "../shared/call-counter";

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());

export function buildHealth(input: {
  config: Config;
  state: HubState;
  poller: PollerState;
  latest: Tick | null;
  alarmAtMs: number | null;
  hubCalls: CallCounts;
  hubStartedAtMs: number;
  nowMs: number;
}): HubHealth {
  const { config, state, nowMs } = input;
  const lastHeardAtMs = state.lastHeardAtMs ?? state.lastFreshAtMs ?? state.startedAtMs;
  // Stale as the loop last declared it, or because the loop itself stopped hearing from the sources.
  const stale = state.staleSinceMs !== null || isStale(lastHeardAtMs, nowMs, config.pollIntervalMs);
  const disputed = state.disputes.length > 0;
  return {
    ok: !stale && !disputed,
    status: stale ? "stale" : disputed ? "disputed" : "live",
    last_poll: iso(state.lastPollAtMs),
    last_fresh_price: iso(state.lastFreshAtMs),
    last_quote: iso(state.lastHeardAtMs),
    last_tick: input.latest ? { seq: input.latest.seq, time: iso(input.latest.tsMs)! } : null,
    stale_since: stale ? iso(state.staleSinceMs ?? lastHeardAtMs) : null,
    disputed_since: disputed ? iso(state.disputedSinceMs) : null,
    disputes: state.disputes,
    subscribers: state.lastFanout ? state.lastFanout.delivered + state.lastFanout.failed : null,
    poll_interval_ms: config.pollIntervalMs,
    next_poll: iso(input.alarmAtMs),
    last_fanout: state.lastFanout,
    sources: sourceHealthReport(input.poller, config, nowMs),
    hub_calls: input.hubCalls,
    hub_started: iso(input.hubStartedAtMs)!,
  };
}

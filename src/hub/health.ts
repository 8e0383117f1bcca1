import type { Config } from "../config";
import type { Dispute, Tick } from "../protocol";
import type { HubState } from "./hub-state";
import { sourceHealthReport, type PollerState, type SourceHealth } from "./poller";
import { isStale } from "./publish";
import type { CallCounts } from "../shared/call-counter";

export interface HubHealth {
  /** False (and HTTP 503) while the feed is stale or a currency is disputed. */
  ok: boolean;
  status: "live" | "stale" | "disputed";
  last_poll: string | null;
  last_fresh_price: string | null;
  /** The last poll in which a source gave a sane quote, published or disputed. */
  last_quote: string | null;
  last_tick: { seq: number; time: string } | null;
  stale_since: string | null;
  disputed_since: string | null;
  /** Currencies not published for now, with what each source said. */
  disputes: Dispute[];
  /** Sessions the latest tick's fan-out reached or tried (null before the first one). */
  subscribers: number | null;
  poll_interval_ms: number;
  next_poll: string | null;
  /** How the latest tick went through the fan-out tree: its shape, its counts, the shards' calls. */
  last_fanout: HubState["lastFanout"];
  sources: SourceHealth[];
  /**
   * Calls the hub object served since its instance started, by method (its alarm, the root shard's
   * fills, the cron's checks, and the HTTP side's reads that missed the edge cache).
   */
  hub_calls: CallCounts;
  hub_started: string;
}

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

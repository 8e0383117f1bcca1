/** The body of `GET /health`: what an operator or a monitor reads about the hub and its sources. */
import type { FanoutSummary } from "./api";
import type { Currency } from "./currencies";
import type { Dispute } from "./messages";

/** One source as /health shows it. */
export interface SourceHealth {
  name: string;
  enabled: boolean;
  state: "closed" | "open" | "half-open";
  consecutiveFailures: number;
  /** While open or half-open: when the breaker lets the next probe through. */
  retryAt: string | null;
  lastSuccessAt: string | null;
  lastError: {
    kind: "http" | "timeout" | "network" | "parse" | "upstream" | "rate_limited" | "stale";
    status?: number;
    message: string;
    at: string;
  } | null;
  lastLatencyMs: number | null;
  /** True while the source is suspect for any currency (its values there are not counted). */
  suspect: boolean;
  suspectCurrencies: Currency[];
  /** Currencies whose quote is stuck: it held still while the other sources moved (suspect too). */
  stuckCurrencies: Currency[];
}

/** How the latest tick went through the tree, as the root reported it. */
export type LastFanout = FanoutSummary & { seq: number; durationMs: number };

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
  last_fanout: LastFanout | null;
  sources: SourceHealth[];
  /**
   * Calls the hub object served since its instance started, by method (its alarm, the root shard's
   * fills, the cron's checks, and the HTTP side's reads that missed the edge cache).
   */
  hub_calls: Record<string, number>;
  hub_started: string;
}

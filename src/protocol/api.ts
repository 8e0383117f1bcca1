/**
 * The bodies of the read-only HTTP API (`/api/price`, `/api/history`, `/api/candles`), shared by the Worker,
 * the page and tests.
 */
import type { Currency } from "./currencies";
import type { PriceFields, StatusMessage } from "./messages";

/**
 * `GET /api/price`: the latest tick in the asked currencies (the fields of a price frame), the feed's
 * state, and each asked currency's figures over the 24 hours up to that tick.
 */
export type PriceBody = PriceFields & {
  status: StatusMessage["state"];
  /** Only currencies with a price in those 24 hours, like `prices`. */
  stats_24h: Partial<Record<Currency, PriceStats>>;
};

/**
 * One currency's figures over the 24 hours up to the latest tick: its ticks with `ts` from the latest
 * `ts` - 86,400 to the latest `ts`, the very ticks `/api/history?from=<ts - 86400>&to=<ts>` returns.
 * See `priceChange` (price-stats.ts) for how `change` and `change_pct` are rounded.
 */
export interface PriceStats {
  /** The first price in the window (by seq). */
  open: number;
  high: number;
  low: number;
  /** The last price in the window minus `open`. */
  change: number;
  /** `change` as a percentage of `open`, to two decimals. */
  change_pct: number;
}

export interface HistoryPoint {
  seq: number;
  /** Unix seconds. */
  ts: number;
  time: string;
  price: number;
}

/** `GET /api/history`: one page of one currency's ticks, oldest first. */
export interface HistoryBody {
  currency: Currency;
  from: number;
  /** The window's end: the `to` asked, or when the page was read for a window reaching now. */
  to: number;
  limit: number;
  points: HistoryPoint[];
  /** The path of the next page (same query, after this page's last seq), or null when this page ends the window. */
  next: string | null;
}

/** The candle intervals of `/api/candles`. */
export type CandleInterval = "1m" | "5m" | "15m" | "1h";

/**
 * One bucket of one currency's ticks. Every price is one of the ticks' stored prices, exactly; a
 * bucket without a tick in the currency has no candle.
 */
export interface Candle {
  /** The bucket's start, Unix seconds (a multiple of the interval): its ticks have `ts` from here to the next start. */
  time: number;
  /** The first tick's price (by seq). */
  open: number;
  high: number;
  low: number;
  /** The last tick's price (by seq). */
  close: number;
  /** How many ticks with a price in the currency fell in the bucket. */
  ticks: number;
}

/** `GET /api/candles`: one page of one currency's candles, oldest first. */
export interface CandlesBody {
  currency: Currency;
  interval: CandleInterval;
  candles: Candle[];
  /** The path of the next page (same query, after this page's last candle), or null when this page ends the window. */
  next: string | null;
}

/**
 * How one event went through the fan-out tree (or a subtree of it): the root's report for the latest
 * tick is `last_fanout` in `GET /health`.
 */
export interface FanoutSummary {
  /** Sessions that handled the event. */
  delivered: number;
  /** Sessions or shards that threw or missed the deadline: they catch up by seq with a later event. */
  failed: number;
  /** Sessions found purged, and forgotten. */
  gone: number;
  /**
   * Listed sessions sent nothing: back from a restart with no socket yet, they keep nothing until they
   * register again (on reconnect), and a reconnect replays what they missed from the shard's history.
   */
  parked: number;
  shards: number;
  leaves: number;
  /** The deepest shard's depth (the root's is 0). */
  depth: number;
  /** The most members one shard holds. */
  maxMembers: number;
  /** Calls the shards served since their instances started, by method: in all, and the most one shard served. */
  shardCalls: Record<string, { total: number; max: number }>;
}

/** What the library hands to its listeners: the wire frames, renamed to camelCase and settled. */
import type { Currency, Dispute, ErrorCode } from "../protocol";

/** One tick, as the `price` event delivers it: at most once per `seq`, in increasing `seq` order. */
export interface PriceTick {
  seq: number;
  /** Unix seconds of the tick. */
  ts: number;
  /** ISO instant of the tick (milliseconds). */
  time: string;
  /** The feed's currencies that this tick prices. */
  prices: Partial<Record<Currency, number>>;
  /** Every source behind a price in this tick. */
  sources: string[];
  /** Only for currencies whose price came from other sources than `sources` (e.g. one exchange). */
  sourcesByCurrency?: Partial<Record<Currency, string[]>>;
  /** Sent as part of a replay after a reconnect (the client missed it live). */
  replayed: boolean;
}

/** Ticks `fromSeq..toSeq` (inclusive) that will never be delivered. */
export interface GapRange {
  fromSeq: number;
  toSeq: number;
}

/** The feed's health as the server states it. */
export type FeedStatus =
  | { state: "live" }
  | { state: "stale"; since: number }
  | { state: "disputed"; since: number; disputes: Dispute[] };

/** The connection, as seen by the caller. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

export interface StateDetail {
  /** Failed connection attempts since the last stable connection. */
  attempt: number;
  /** When the next attempt starts (ms since the epoch); null unless reconnecting and waiting. */
  retryAt: number | null;
  /** Why the last connection or attempt ended; null while connecting or open. */
  reason: DownReason | null;
}

/**
 * closed: the socket closed (refused, dropped, server restart); connect_timeout: no welcome in
 * time; heartbeat_timeout: no frame, not even `pong`, after a `ping`; refused: the WebSocket
 * constructor threw; stopped: `close()` was called.
 */
export type DownReason = "closed" | "connect_timeout" | "heartbeat_timeout" | "refused" | "stopped";

/** The server's greeting on each connection. */
export interface WelcomeInfo {
  clientId: string;
  currencies: Currency[];
  /** The server knew this client (its session was still there). */
  resumed: boolean;
  intervalMs: number;
  epoch: string;
}

/** The server's history changed (wiped, or another deployment): `seq` numbering restarts. */
export interface ResetInfo {
  epoch: string;
  previousEpoch: string;
  message: string;
}

/** A replay finished: `count` replayed ticks were delivered as `price` events on this connection. */
export interface ReplayInfo {
  count: number;
}

export interface ServerError {
  code: ErrorCode;
  message: string;
}

export interface PriceFeedEvents {
  price: (tick: PriceTick) => void;
  gap: (range: GapRange) => void;
  status: (status: FeedStatus) => void;
  state: (state: ConnectionState, detail: StateDetail) => void;
  welcome: (info: WelcomeInfo) => void;
  replay: (info: ReplayInfo) => void;
  reset: (info: ResetInfo) => void;
  /** The server's confirmed currency set for the open connection (after welcome, subscribe, unsubscribe). */
  subscribed: (currencies: Currency[]) => void;
  /** An `error` frame from the server (the connection stays up unless the server closes it). */
  error: (error: ServerError) => void;
}

/**
 * What the library hands to its listeners: the wire frames' fields (src/protocol/messages.ts,
 * docs/asyncapi.yaml), renamed to camelCase, derived from the protocol's types rather than copied.
 */
import type {
  Currency,
  ErrorMessage,
  GapMessage,
  HeartbeatMessage,
  PriceMessage,
  ReplayEndMessage,
  ResetMessage,
  StatusMessage,
  WelcomeMessage,
} from "../protocol";
import type { FrameInfo } from "./camel-case";

/**
 * One tick, as the `price` event delivers it: at most once per `seq`, in increasing `seq` order.
 * The `price` frame's fields: `{ seq, ts, time, prices, sources, sourcesByCurrency?, replayed }`.
 */
export interface PriceTick extends FrameInfo<PriceMessage> {}

/**
 * Ticks `fromSeq..toSeq` (inclusive) that will never be delivered: a `gap` frame's fields, or a
 * hole the library found.
 */
export interface GapRange extends FrameInfo<GapMessage> {}

/**
 * The feed's health as the server states it (a `status` frame's fields):
 * `{ state: "live" } | { state: "stale", since } | { state: "disputed", since, disputes }`.
 */
export type FeedStatus = FrameInfo<StatusMessage>;

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
 * constructor threw; stopped: `close()` was called; unsupported_protocol: the server's welcome
 * named a major protocol version this library does not know (it does not reconnect: upgrade it);
 * rejected: the server refused this client with an error frame that retrying cannot change
 * (`too_many_sockets`), so it does not reconnect: `start()` tries again; stalled: a server that sends
 * heartbeats sent no frame at all for twice its `heartbeat_s` and a margin (the socket may still
 * answer `ping`); hole: a heartbeat named a seq past `lastSeq` that the connection had not vouched for.
 */
export type DownReason =
  | "closed"
  | "connect_timeout"
  | "heartbeat_timeout"
  | "refused"
  | "stopped"
  | "unsupported_protocol"
  | "rejected"
  | "stalled"
  | "hole";

/**
 * The server's greeting on each connection (a `welcome` frame's fields):
 * `{ clientId, currencies, resumed, intervalMs, epoch, protocol, heartbeatS }` (`heartbeatS` 0: no heartbeats).
 */
export interface WelcomeInfo extends FrameInfo<WelcomeMessage> {}

/**
 * The server's history changed (wiped, or another deployment): `seq` numbering restarts.
 * A `reset` frame's fields: `{ epoch, previousEpoch, message }`.
 */
export interface ResetInfo extends FrameInfo<ResetMessage> {}

/** A replay finished: `count` replayed ticks were delivered as `price` events on this connection. */
export interface ReplayInfo extends FrameInfo<ReplayEndMessage> {}

/**
 * The feed is alive and the market quiet (a `heartbeat` frame's fields: `{ seq, time }`): every tick up
 * to `seq` that moved the feed's currencies was sent before it.
 */
export interface HeartbeatInfo extends FrameInfo<HeartbeatMessage> {}

/** An `error` frame's fields: `{ code, message }`. */
export interface ServerError extends FrameInfo<ErrorMessage> {}

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
  /** The server says the feed is alive though nothing moved (at most every `welcome.heartbeatS` seconds). */
  heartbeat: (info: HeartbeatInfo) => void;
  /** An `error` frame from the server (the connection stays up unless the server closes it). */
  error: (error: ServerError) => void;
}

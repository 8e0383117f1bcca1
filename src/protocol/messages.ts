import { parseCurrencies, type Currency } from "./currencies";
import { fail, ok, type ErrorCode, type Result } from "./result";
import { pickPrices, viewSources, type Tick } from "./tick";
import { PROTOCOL_VERSION } from "./version";

/** Every frame the server sends (docs/asyncapi.yaml describes each for client authors). */
export type ServerMessage =
  | {
      type: "welcome";
      client_id: string;
      currencies: Currency[];
      /** The server knew this client (its session was still there). */
      resumed: boolean;
      interval_ms: number;
      /** The hub history's id: `seq` numbers are only comparable within one epoch. */
      epoch: string;
      /** The wire protocol's version, `MAJOR.MINOR` (see PROTOCOL_VERSION). */
      protocol: string;
      /**
       * A socket sent nothing for this many seconds gets a `heartbeat`; 0 from a server that sends none.
       * Silence for twice as long means the feed is stalled.
       */
      heartbeat_s: number;
    }
  | {
      type: "price";
      /** Strictly increasing across all currencies within one epoch; never reused. */
      seq: number;
      /** Unix seconds of the tick. */
      ts: number;
      /** ISO instant of the tick (milliseconds). */
      time: string;
      /** The socket's currencies that this tick prices. */
      prices: Partial<Record<Currency, number>>;
      /** Every source behind one of the prices in `prices`, and no other. */
      sources: string[];
      /**
       * Present only when a currency in `prices` came from fewer sources than `sources` (e.g. JPY from
       * one exchange while USD had three); lists just those currencies.
       */
      sources_by_currency?: Partial<Record<Currency, string[]>>;
      /** Sent as part of a replay (the client may have seen it already: drop it by seq). */
      replayed: boolean;
    }
  /** A replay that was asked for ended; `count` replayed prices were sent on this connection. */
  | { type: "replay_end"; count: number }
  /** Ticks `from_seq..to_seq` (both included) will never come: dropped, or no longer kept. */
  | { type: "gap"; from_seq: number; to_seq: number }
  | { type: "subscribed"; currencies: Currency[] }
  | { type: "status"; state: "stale"; since: number }
  | { type: "status"; state: "live" }
  | { type: "status"; state: "disputed"; since: number; disputes: Dispute[] }
  /**
   * The client resumed with an epoch that is not the server's (its history was wiped or belongs to
   * another deployment): no replay by seq happened, seq numbering restarts from this epoch, and the
   * latest price follows.
   */
  | { type: "reset"; epoch: string; previous_epoch: string; message: string }
  | { type: "error"; code: ErrorCode; message: string }
  /**
   * The socket was sent nothing for `heartbeat_s` seconds: the feed is alive and the market quiet. Every
   * tick up to `seq` that moved the socket's currencies was sent on this socket before it.
   */
  | { type: "heartbeat"; seq: number; time: string };

/** The server frame of one type, e.g. `ServerFrame<"gap">`. */
export type ServerFrame<T extends ServerMessage["type"]> = Extract<ServerMessage, { type: T }>;

/**
 * A currency the feed does not publish for now: its sources answered, but no price could be confirmed
 * (two that disagree and the last published price does not settle it, or a lone source that moved away
 * from it). It stays disputed until a poll publishes it again.
 */
export interface Dispute {
  currency: Currency;
  /** What each source said, rounded like a published price. */
  quotes: Record<string, number>;
}

export type WelcomeMessage = ServerFrame<"welcome">;
export type PriceMessage = ServerFrame<"price">;
export type ReplayEndMessage = ServerFrame<"replay_end">;
export type GapMessage = ServerFrame<"gap">;
export type SubscribedMessage = ServerFrame<"subscribed">;
export type StatusMessage = ServerFrame<"status">;
export type ResetMessage = ServerFrame<"reset">;
export type ErrorMessage = ServerFrame<"error">;
export type HeartbeatMessage = ServerFrame<"heartbeat">;

/** Every frame a client may send (besides the text `ping`, answered `pong` by the runtime). */
export type ClientMessage =
  | { type: "subscribe"; currencies: Currency[] }
  | { type: "unsubscribe"; currencies: Currency[] };

export const MAX_CLIENT_FRAME_BYTES = 4096;

/** A tick as clients see it, in their currencies: a price frame and GET /api/price share these fields. */
export type PriceFields = Omit<PriceMessage, "type" | "replayed">;

export function priceFields(tick: Tick, currencies: readonly Currency[]): PriceFields {
  const { sources, bySource } = viewSources(tick, currencies);
  return {
    seq: tick.seq,
    ts: Math.floor(tick.tsMs / 1000),
    time: new Date(tick.tsMs).toISOString(),
    prices: pickPrices(tick.prices, currencies),
    sources,
    ...(bySource ? { sources_by_currency: bySource } : {}),
  };
}

export function priceMessage(tick: Tick, currencies: readonly Currency[], replayed: boolean): PriceMessage {
  return { type: "price", ...priceFields(tick, currencies), replayed };
}

/** The first frame of every connection; it names the protocol version itself. */
export function welcomeMessage(fields: Omit<WelcomeMessage, "type" | "protocol">): WelcomeMessage {
  return { type: "welcome", ...fields, protocol: PROTOCOL_VERSION };
}

export function heartbeatMessage(seq: number, nowMs: number): HeartbeatMessage {
  return { type: "heartbeat", seq, time: new Date(nowMs).toISOString() };
}

export function replayEndMessage(count: number): ReplayEndMessage {
  return { type: "replay_end", count };
}

/** Ticks from `fromSeq` to `toSeq` (both included) will never come: dropped, or no longer kept. */
export function gapMessage(gap: { fromSeq: number; toSeq: number }): GapMessage {
  return { type: "gap", from_seq: gap.fromSeq, to_seq: gap.toSeq };
}

export function subscribedMessage(currencies: readonly Currency[]): SubscribedMessage {
  return { type: "subscribed", currencies: [...currencies] };
}

export function liveStatus(): StatusMessage {
  return { type: "status", state: "live" };
}

/** No source has given a sane quote since `since` (Unix seconds). */
export function staleStatus(since: number): StatusMessage {
  return { type: "status", state: "stale", since };
}

/** These currencies get no new price since `since` (Unix seconds): their sources could not be confirmed. */
export function disputedStatus(since: number, disputes: Dispute[]): StatusMessage {
  return { type: "status", state: "disputed", since, disputes };
}

export function resetMessage(epoch: string, previousEpoch: string): ResetMessage {
  return {
    type: "reset",
    epoch,
    previous_epoch: previousEpoch,
    message:
      "the price history was replaced: seq numbers restart in this epoch, and no replay by an earlier seq is possible",
  };
}

export function errorMessage(code: ErrorCode, message: string): ErrorMessage {
  return { type: "error", code, message };
}

/** Parses one text frame from a client. Never throws. */
export function parseClientFrame(text: string): Result<ClientMessage> {
  if (text.length > MAX_CLIENT_FRAME_BYTES) {
    return fail("frame_too_large", `frames are limited to ${MAX_CLIENT_FRAME_BYTES} bytes`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return fail("invalid_frame", "frame is not JSON");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return fail("invalid_frame", "frame must be a JSON object");
  }
  const { type, currencies } = data as Record<string, unknown>;
  if (type !== "subscribe" && type !== "unsubscribe") {
    const shown = typeof type === "string" ? `"${type.slice(0, 32)}"` : "missing";
    return fail("unknown_type", `unknown frame type ${shown}; expected subscribe or unsubscribe`);
  }
  if (!Array.isArray(currencies)) {
    return fail("invalid_currencies", `${type} needs "currencies": an array of currency codes`);
  }
  const parsed = parseCurrencies(currencies);
  if (!parsed.ok) return parsed;
  return ok({ type, currencies: parsed.value });
}

/** The socket's currency set after a subscribe/unsubscribe frame. */
export function applySubscription(current: readonly Currency[], msg: ClientMessage): Currency[] {
  if (msg.type === "subscribe") {
    return [...current, ...msg.currencies.filter((c) => !current.includes(c))];
  }
  return current.filter((c) => !msg.currencies.includes(c));
}

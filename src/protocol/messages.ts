import { parseCurrencies, type Currency } from "./currencies";
import { fail, ok, type ErrorCode, type Result } from "./result";
import { pickPrices, viewSources, type Tick } from "./tick";

/** Every frame the server sends. */
export type ServerMessage =
  | {
      type: "welcome";
      client_id: string;
      currencies: Currency[];
      resumed: boolean;
      interval_ms: number;
      /** The hub history's id: `seq` numbers are only comparable within one epoch. */
      epoch: string;
    }
  | {
      type: "price";
      seq: number;
      ts: number;
      time: string;
      prices: Partial<Record<Currency, number>>;
      /** Every source behind one of the prices in `prices`, and no other. */
      sources: string[];
      /**
       * Present only when a currency in `prices` came from fewer sources than `sources` (e.g. JPY from
       * one exchange while USD had three); lists just those currencies.
       */
      sources_by_currency?: Partial<Record<Currency, string[]>>;
      replayed: boolean;
    }
  | { type: "replay_end"; count: number }
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
  | { type: "error"; code: ErrorCode; message: string };

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

export type PriceMessage = Extract<ServerMessage, { type: "price" }>;
export type StatusMessage = Extract<ServerMessage, { type: "status" }>;

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

export type WelcomeMessage = Extract<ServerMessage, { type: "welcome" }>;

export function welcomeMessage(fields: Omit<WelcomeMessage, "type">): WelcomeMessage {
  return { type: "welcome", ...fields };
}

/** Ticks from `fromSeq` to `toSeq` (both included) will never come: dropped, or no longer kept. */
export function gapMessage(gap: { fromSeq: number; toSeq: number }): Extract<ServerMessage, { type: "gap" }> {
  return { type: "gap", from_seq: gap.fromSeq, to_seq: gap.toSeq };
}

export function resetMessage(epoch: string, previousEpoch: string): Extract<ServerMessage, { type: "reset" }> {
  return {
    type: "reset",
    epoch,
    previous_epoch: previousEpoch,
    message:
      "the price history was replaced: seq numbers restart in this epoch, and no replay by an earlier seq is possible",
  };
}

export function errorMessage(code: ErrorCode, message: string): ServerMessage {
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

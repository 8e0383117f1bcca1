/**
 * Reading the server's frames defensively, for every consumer of the feed (the /home page, the
 * client library, tests): the shapes are the ones in messages.ts, but a proxy, an older or newer
 * server, or a bug must not crash a client.
 */
import { isCurrency, type Currency } from "./currencies";
import type { Dispute, ServerMessage } from "./messages";
import type { ErrorCode } from "./result";
import { UNVERSIONED_PROTOCOL } from "./version";

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function currencyList(v: unknown): Currency[] | null {
  if (!Array.isArray(v)) return null;
  const out: Currency[] = [];
  for (const c of v) if (typeof c === "string" && isCurrency(c) && !out.includes(c)) out.push(c);
  return out;
}

/** Positive finite prices of known currencies; anything else is dropped. */
export function priceMap(v: unknown): Partial<Record<Currency, number>> | null {
  if (!isObject(v)) return null;
  const out: Partial<Record<Currency, number>> = {};
  for (const [k, p] of Object.entries(v)) if (isCurrency(k) && isNum(p) && p > 0) out[k] = p;
  return out;
}

const stringList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];

/** Known currencies with a list of source names; null when nothing usable is left. */
function sourcesByCurrency(v: unknown): Partial<Record<Currency, string[]>> | null {
  if (!isObject(v)) return null;
  const out: Partial<Record<Currency, string[]>> = {};
  let any = false;
  for (const [k, list] of Object.entries(v)) {
    if (!isCurrency(k) || !Array.isArray(list)) continue;
    out[k] = stringList(list);
    any = true;
  }
  return any ? out : null;
}

function disputeList(v: unknown): Dispute[] {
  if (!Array.isArray(v)) return [];
  const out: Dispute[] = [];
  for (const d of v) {
    if (!isObject(d) || typeof d.currency !== "string" || !isCurrency(d.currency) || !isObject(d.quotes)) continue;
    const quotes: Record<string, number> = {};
    for (const [source, value] of Object.entries(d.quotes)) if (isNum(value)) quotes[source] = value;
    out.push({ currency: d.currency, quotes });
  }
  return out;
}

/** Parses one text frame; null for anything that is not a known server frame (e.g. "pong"). */
export function parseServerFrame(text: string): ServerMessage | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(data) || typeof data.type !== "string") return null;
  switch (data.type) {
    case "welcome": {
      const currencies = currencyList(data.currencies);
      if (typeof data.client_id !== "string" || !currencies) return null;
      return {
        type: "welcome",
        client_id: data.client_id,
        currencies,
        resumed: data.resumed === true,
        interval_ms: isNum(data.interval_ms) ? data.interval_ms : 5000,
        epoch: typeof data.epoch === "string" ? data.epoch : "",
        protocol: typeof data.protocol === "string" ? data.protocol : UNVERSIONED_PROTOCOL,
        heartbeat_s: isNum(data.heartbeat_s) && data.heartbeat_s > 0 ? data.heartbeat_s : 0,
      };
    }
    case "price": {
      const prices = priceMap(data.prices);
      if (!isNum(data.seq) || !prices) return null;
      const ts = isNum(data.ts) ? data.ts : Math.floor(Date.parse(String(data.time)) / 1000);
      const time = typeof data.time === "string" ? data.time : new Date(ts * 1000).toISOString();
      const bySource = sourcesByCurrency(data.sources_by_currency);
      return {
        type: "price",
        seq: data.seq,
        ts,
        time,
        prices,
        sources: stringList(data.sources),
        ...(bySource ? { sources_by_currency: bySource } : {}),
        replayed: data.replayed === true,
      };
    }
    case "heartbeat":
      if (!isNum(data.seq) || typeof data.time !== "string") return null;
      return { type: "heartbeat", seq: data.seq, time: data.time };
    case "replay_end":
      return { type: "replay_end", count: isNum(data.count) ? data.count : 0 };
    case "gap":
      if (!isNum(data.from_seq) || !isNum(data.to_seq)) return null;
      return { type: "gap", from_seq: data.from_seq, to_seq: data.to_seq };
    case "subscribed": {
      const currencies = currencyList(data.currencies);
      return currencies ? { type: "subscribed", currencies } : null;
    }
    case "status":
      if (data.state === "stale") return { type: "status", state: "stale", since: isNum(data.since) ? data.since : 0 };
      if (data.state === "live") return { type: "status", state: "live" };
      if (data.state === "disputed") {
        return {
          type: "status",
          state: "disputed",
          since: isNum(data.since) ? data.since : 0,
          disputes: disputeList(data.disputes),
        };
      }
      return null;
    case "reset":
      if (typeof data.epoch !== "string") return null;
      return {
        type: "reset",
        epoch: data.epoch,
        previous_epoch: typeof data.previous_epoch === "string" ? data.previous_epoch : "",
        message: typeof data.message === "string" ? data.message : "",
      };
    case "error":
      return {
        type: "error",
        code: (typeof data.code === "string" ? data.code : "internal_error") as ErrorCode,
        message: typeof data.message === "string" ? data.message : "unknown error",
      };
    default:
      return null;
  }
}

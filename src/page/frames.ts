/**
 * Reading the server's frames and the HTTP API's bodies defensively: the page trusts
 * the shapes in src/protocol, but a proxy, an old server or a bug must not crash it.
 */
import { isCurrency, type Currency, type ServerMessage } from "../protocol";
import type { ChartPoint } from "./chart-scale";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function currencyList(v: unknown): Currency[] | null {
  if (!Array.isArray(v)) return null;
  const out: Currency[] = [];
  for (const c of v) if (typeof c === "string" && isCurrency(c) && !out.includes(c)) out.push(c);
  return out;
}

function priceMap(v: unknown): Partial<Record<Currency, number>> | null {
  if (!isObject(v)) return null;
  const out: Partial<Record<Currency, number>> = {};
  for (const [k, p] of Object.entries(v)) if (isCurrency(k) && isNum(p) && p > 0) out[k] = p;
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
      };
    }
    case "price": {
      const prices = priceMap(data.prices);
      if (!isNum(data.seq) || !prices) return null;
      const ts = isNum(data.ts) ? data.ts : Math.floor(Date.parse(String(data.time)) / 1000);
      const time = typeof data.time === "string" ? data.time : new Date(ts * 1000).toISOString();
      return {
        type: "price",
        seq: data.seq,
        ts,
        time,
        prices,
        sources: Array.isArray(data.sources) ? data.sources.filter((s): s is string => typeof s === "string") : [],
        replayed: data.replayed === true,
      };
    }
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
      return null;
    case "error":
      return {
        type: "error",
        code: (typeof data.code === "string" ? data.code : "internal_error") as Extract<ServerMessage, { type: "error" }>["code"],
        message: typeof data.message === "string" ? data.message : "unknown error",
      };
    default:
      return null;
  }
}

/** Milliseconds of a tick: the ISO time (has milliseconds) or else the Unix seconds. */
export function tickMs(time: unknown, ts: unknown): number {
  const parsed = typeof time === "string" ? Date.parse(time) : NaN;
  if (Number.isFinite(parsed)) return parsed;
  return isNum(ts) ? ts * 1000 : NaN;
}

/** `GET /api/history` body → chart points (invalid rows dropped). */
export function parseHistory(body: unknown): { currency: Currency; points: ChartPoint[] } | null {
  if (!isObject(body) || typeof body.currency !== "string" || !isCurrency(body.currency)) return null;
  if (!Array.isArray(body.points)) return null;
  const points: ChartPoint[] = [];
  for (const row of body.points) {
    if (!isObject(row) || !isNum(row.seq) || !isNum(row.price) || row.price <= 0) continue;
    const t = tickMs(row.time, row.ts);
    if (!Number.isFinite(t)) continue;
    points.push({ seq: row.seq, t, price: row.price, replayed: false });
  }
  points.sort((a, b) => a.seq - b.seq);
  return { currency: body.currency, points };
}

export interface PriceSnapshot {
  seq: number;
  time: string;
  prices: Partial<Record<Currency, number>>;
  sources: string[];
}

/** `GET /api/price` body → snapshot, or null. */
export function parsePriceSnapshot(body: unknown): PriceSnapshot | null {
  if (!isObject(body) || !isNum(body.seq)) return null;
  const prices = priceMap(body.prices);
  if (!prices) return null;
  const t = tickMs(body.time, body.ts);
  if (!Number.isFinite(t)) return null;
  return {
    seq: body.seq,
    time: new Date(t).toISOString(),
    prices,
    sources: Array.isArray(body.sources) ? body.sources.filter((s): s is string => typeof s === "string") : [],
  };
}

/** The error message of an API error body `{"error":{code,message}}`, if it is one. */
export function apiErrorMessage(body: unknown): string | null {
  if (!isObject(body) || !isObject(body.error)) return null;
  return typeof body.error.message === "string" ? body.error.message : null;
}

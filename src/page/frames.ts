/**
 * Reading the HTTP API's bodies defensively (server frames are read by src/protocol/server-frames.ts):
 * the page trusts the shapes in src/protocol, but a proxy, an old server or a bug must not crash it.
 */
import { isCurrency, isNum, isObject, priceMap, type Currency } from "../protocol";
import type { ChartPoint } from "./chart-scale";

/** Milliseconds of a tick: the ISO time (has milliseconds) or else the Unix seconds. */
export function tickMs(time: unknown, ts: unknown): number {
  const parsed = typeof time === "string" ? Date.parse(time) : NaN;
  if (Number.isFinite(parsed)) return parsed;
  return isNum(ts) ? ts * 1000 : NaN;
}

/** The only pages the page follows: another page of the same API on the same origin. */
const NEXT_PAGE = /^\/api\/history\?[A-Za-z0-9=&%_.,-]*$/;

/** `GET /api/history` body → chart points (invalid rows dropped) and the path of the next page, if any. */
export function parseHistory(body: unknown): { currency: Currency; points: ChartPoint[]; next: string | null } | null {
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
  const next = typeof body.next === "string" && NEXT_PAGE.test(body.next) ? body.next : null;
  return { currency: body.currency, points, next };
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

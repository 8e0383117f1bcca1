/**
 * Reading the HTTP API's bodies defensively (server frames are read by src/protocol/server-frames.ts):
 * the page trusts the shapes in src/protocol, but a proxy, an old server or a bug must not crash it.
 */
import {
  CANDLE_INTERVAL_S,
  isCurrency,
  isNum,
  isObject,
  priceMap,
  SUPPORTED_CURRENCIES,
  type Candle,
  type CandlesBody,
  type Currency,
  type PriceStats,
} from "../protocol";
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
  /** `stats_24h`: the currencies with well-formed figures only. */
  stats: Partial<Record<Currency, PriceStats>>;
}

const isPrice = (v: unknown): v is number => isNum(v) && v > 0;

function priceStats(v: unknown): PriceStats | null {
  if (!isObject(v) || !isPrice(v.open) || !isPrice(v.high) || !isPrice(v.low)) return null;
  if (!isNum(v.change) || !isNum(v.change_pct) || v.low > v.high) return null;
  return { open: v.open, high: v.high, low: v.low, change: v.change, change_pct: v.change_pct };
}

function statsMap(v: unknown): Partial<Record<Currency, PriceStats>> {
  const out: Partial<Record<Currency, PriceStats>> = {};
  if (!isObject(v)) return out;
  for (const c of SUPPORTED_CURRENCIES) {
    const stats = priceStats(v[c]);
    if (stats) out[c] = stats;
  }
  return out;
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
    stats: statsMap(body.stats_24h),
  };
}

const NEXT_CANDLES_PAGE = /^\/api\/candles\?[A-Za-z0-9=&%_.,-]*$/;

function candle(v: unknown): Candle | null {
  if (!isObject(v) || !isNum(v.time) || !isNum(v.ticks)) return null;
  const { open, high, low, close } = v;
  if (!isPrice(open) || !isPrice(high) || !isPrice(low) || !isPrice(close)) return null;
  if (low > Math.min(open, close) || high < Math.max(open, close)) return null;
  return { time: v.time, open, high, low, close, ticks: v.ticks };
}

/** `GET /api/candles` body → its candles in time order (invalid ones dropped) and the next page's path, or null. */
export function parseCandles(body: unknown): CandlesBody | null {
  if (!isObject(body) || typeof body.currency !== "string" || !isCurrency(body.currency)) return null;
  if (typeof body.interval !== "string" || !Object.hasOwn(CANDLE_INTERVAL_S, body.interval)) return null;
  if (!Array.isArray(body.candles)) return null;
  const candles = body.candles.map(candle).filter((c): c is Candle => c !== null);
  candles.sort((a, b) => a.time - b.time);
  const next = typeof body.next === "string" && NEXT_CANDLES_PAGE.test(body.next) ? body.next : null;
  return { currency: body.currency, interval: body.interval as CandlesBody["interval"], candles, next };
}

/** The error message of an API error body `{"error":{code,message}}`, if it is one. */
export function apiErrorMessage(body: unknown): string | null {
  if (!isObject(body) || !isObject(body.error)) return null;
  return typeof body.error.message === "string" ? body.error.message : null;
}

/**
 * GET /api/price, /api/history, /api/candles and /health: answered from the edge cache (edge-cache.ts), so
 * the hub sees at most one call per key per poll interval and location, whatever the traffic.
 * While the hub fails they answer with the last answer, marked stale, or 503 when there is none.
 */
import { configOf } from "../config";
import {
  CANDLE_INTERVAL_S,
  candlesQueryString,
  historyQueryString,
  parseCandlesQuery,
  parseHistoryQuery,
  parsePriceQuery,
  pickPrices,
  priceFields,
  type CandlesBody,
  type CandlesQuery,
  type Currency,
  type HistoryBody,
  type HistoryQuery,
  type PriceBody,
  type Result,
} from "../protocol";
import type { PriceSnapshot } from "../contracts";
import { CORS_HEADERS, errorResponse } from "../shared/responses";
import { hubHttp } from "../stubs";
import {
  ageSeconds,
  EdgeCache,
  HUB_RETRY_MS,
  KEY_PREFIX,
  secondsLeft,
  ttlForInterval,
  type Answer,
  type CachedAnswer,
} from "./edge-cache";
import { etagMatches } from "./etag";

const edge = new EdgeCache({
  cache: () => caches.default,
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
});

/**
 * A stale /health (503) is kept 1 s, not a whole interval: recovery shows within a second, and
 * a flood during an outage still costs the hub one call a second per location.
 */
export const UNHEALTHY_TTL_S = 1;

/**
 * How long past its TTL the last /health may stand in for a hub that fails: long enough to ride
 * out a restart, short enough that a monitor sees an outage of the hub as one.
 */
export const HEALTH_STALE_LIMIT_S = 30;

/** Nothing to serve while the hub fails: this isolate asks the hub again after HUB_RETRY_MS. */
export function unavailableResponse(): Response {
  return errorResponse(
    503,
    { code: "unavailable", message: "the price hub is not answering and no earlier answer is at hand; retry shortly" },
    { "Retry-After": String(Math.ceil(HUB_RETRY_MS / 1000)) },
  );
}

type Handler = (request: Request, env: Env, ctx: ExecutionContext) => Promise<Response>;

const keyFor = (request: Request, name: string) => `${new URL(request.url).origin}${KEY_PREFIX}${name}`;

function cached(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  key: string,
  load: () => Promise<Answer>,
  ttl?: (a: Answer) => number,
  staleLimitS?: number,
) {
  const fresh = ttlForInterval(configOf(env).pollIntervalMs);
  return edge.get(keyFor(request, key), load, ttl ?? (() => fresh), (work) => ctx.waitUntil(work), staleLimitS);
}

/**
 * The HTTP response for a cached answer. A 200 may be kept by browsers and proxies for what is
 * left of its edge lifetime and revalidated with its ETag (304); anything else is not stored.
 */
export function answerResponse(
  request: Request,
  answer: CachedAnswer,
  body: string,
  etag: string,
  nowMs = Date.now(),
): Response {
  const ok = answer.status === 200;
  const headers: Record<string, string> = {
    ...CORS_HEADERS,
    "Content-Type": "application/json; charset=utf-8",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": ok ? `public, max-age=${secondsLeft(answer, nowMs)}` : "no-store",
    "X-Edge-Cache": answer.source,
  };
  // Only a stale answer says its age: a fresh one's max-age already counts from now.
  if (answer.source === "stale") headers.Age = String(ageSeconds(answer, nowMs));
  if (ok) headers.ETag = etag;
  if (ok && etagMatches(request.headers.get("If-None-Match"), etag))
    return new Response(null, { status: 304, headers });
  return new Response(body, { status: answer.status, headers });
}

export const handlePrice: Handler = async (request, env, ctx) => {
  const query = parsePriceQuery(new URL(request.url).searchParams);
  if (!query.ok) return errorResponse(400, query.error);
  // One key for every currency set: the hub is asked for the whole latest tick and every
  // currency's figures, the edge picks.
  const answer = await cached(request, env, ctx, "snapshot", async () => ({
    body: JSON.stringify(await hubHttp(env).snapshot()),
    status: 200,
  }));
  if (!answer) return unavailableResponse();
  // A snapshot an edge kept from before the figures existed (for one interval after a deploy) has none.
  const snapshot = JSON.parse(answer.body) as Omit<PriceSnapshot, "stats24h"> & Partial<PriceSnapshot>;
  const tick = snapshot.latest;
  if (!tick) return errorResponse(404, { code: "no_price_yet", message: "no price has been published yet" });
  const { currencies } = query.value;
  const body: PriceBody = {
    ...priceFields(tick, currencies),
    status: snapshot.status.state,
    stats_24h: pickPrices(snapshot.stats24h ?? {}, currencies),
  };
  // The body follows from the snapshot and the currency set: so does its ETag.
  return answerResponse(request, answer, JSON.stringify(body), priceEtag(answer.etag, currencies));
};

function priceEtag(snapshotEtag: string, currencies: readonly Currency[]): string {
  return `${snapshotEtag.slice(0, -1)}.${currencies.join("-")}"`;
}

/** A query's handler: 400 when it is bad, else its answer through the edge cache, keyed by its one spelling. */
function queryHandler<Q>(
  parse: (params: URLSearchParams, nowMs: number) => Result<Q>,
  key: (query: Q) => string,
  load: (env: Env, query: Q) => Promise<Answer>,
): Handler {
  return async (request, env, ctx) => {
    const query = parse(new URL(request.url).searchParams, Date.now());
    if (!query.ok) return errorResponse(400, query.error);
    const q = query.value;
    const answer = await cached(request, env, ctx, key(q), () => load(env, q));
    if (!answer) return unavailableResponse();
    return answerResponse(request, answer, answer.body, answer.etag);
  };
}

export const handleHistory = queryHandler(parseHistoryQuery, (q) => `history?${historyQueryString(q)}`, historyAnswer);

/** One page, its body written around the JSON text the hub's SQLite wrote: nothing parsed per point. */
async function historyAnswer(env: Env, q: HistoryQuery): Promise<Answer> {
  const toS = q.toS ?? Math.floor(Date.now() / 1000);
  const page = await hubHttp(env).historyPage(q.currency, q.fromS * 1000, windowEndMs(q), q.afterSeq ?? 0, q.limit);
  const next = page.more ? `/api/history?${historyQueryString({ ...q, afterSeq: page.lastSeq })}` : null;
  const head: Omit<HistoryBody, "points" | "next"> = { currency: q.currency, from: q.fromS, to: toS, limit: q.limit };
  return pageAnswer(head, "points", page.points, next);
}

export const handleCandles = queryHandler(parseCandlesQuery, (q) => `candles?${candlesQueryString(q)}`, candlesAnswer);

/** One page of candles, its body written around the JSON text the hub's SQLite wrote. */
async function candlesAnswer(env: Env, q: CandlesQuery): Promise<Answer> {
  const bucketS = CANDLE_INTERVAL_S[q.interval];
  // The cursor is the last bucket served: the page goes on with the next one, whole.
  const fromS = q.afterS === null ? q.fromS : q.afterS + bucketS;
  const page = await hubHttp(env).candlesPage(q.currency, bucketS, fromS * 1000, windowEndMs(q), q.limit);
  const next = page.more ? `/api/candles?${candlesQueryString({ ...q, afterS: page.lastTime })}` : null;
  const head: Omit<CandlesBody, "candles" | "next"> = { currency: q.currency, interval: q.interval };
  return pageAnswer(head, "candles", page.candles, next);
}

/** The last millisecond of a window: one reaching now takes every tick the hub has, whatever its clock says. */
const windowEndMs = (q: { toS: number | null }) => (q.toS === null ? Number.MAX_SAFE_INTEGER : q.toS * 1000 + 999);

/** A page's body: `head`, then the JSON array text the hub's SQLite wrote under `name` (not parsed again), `next`. */
function pageAnswer(head: object, name: string, items: string, next: string | null): Answer {
  const body = `${JSON.stringify(head).slice(0, -1)},${JSON.stringify(name)}:${items},"next":${JSON.stringify(next)}}`;
  return { body, status: 200 };
}

export const handleHealth: Handler = async (request, env, ctx) => {
  const answer = await cached(
    request,
    env,
    ctx,
    "health",
    async () => {
      const health = await hubHttp(env).health();
      return { body: JSON.stringify(health), status: health.ok ? 200 : 503 };
    },
    (a) => (a.status === 200 ? ttlForInterval(configOf(env).pollIntervalMs) : UNHEALTHY_TTL_S),
    HEALTH_STALE_LIMIT_S,
  );
  if (!answer) return unavailableResponse();
  return answerResponse(request, answer, answer.body, answer.etag);
};

import { parseHistoryQuery, parsePriceQuery, pickCurrencySources, pickPrices } from "../protocol";
import { hubStub } from "../stubs";
import { errorResponse, json } from "../shared/responses";

const MAX_HISTORY_POINTS = 20_000;

export async function handlePrice(request: Request, env: Env): Promise<Response> {
  const query = parsePriceQuery(new URL(request.url).searchParams);
  if (!query.ok) return errorResponse(400, query.error);
  const hub = hubStub(env);
  const [tick, status] = await Promise.all([hub.latest(), hub.status()]);
  if (!tick) return errorResponse(404, { code: "no_price_yet", message: "no price has been published yet" });
  const bySource = pickCurrencySources(tick, query.value.currencies);
  return json({
    seq: tick.seq,
    ts: Math.floor(tick.tsMs / 1000),
    time: new Date(tick.tsMs).toISOString(),
    prices: pickPrices(tick.prices, query.value.currencies),
    sources: tick.sources,
    ...(bySource ? { sources_by_currency: bySource } : {}),
    status: status.state,
  });
}

export async function handleHistory(request: Request, env: Env): Promise<Response> {
  const query = parseHistoryQuery(new URL(request.url).searchParams, Date.now());
  if (!query.ok) return errorResponse(400, query.error);
  const { currency, fromS, toS } = query.value;
  const ticks = await hubStub(env).priceHistory(currency, fromS * 1000, toS * 1000 + 999, MAX_HISTORY_POINTS);
  return json({
    currency,
    from: fromS,
    to: toS,
    points: ticks.map((t) => ({
      seq: t.seq,
      ts: Math.floor(t.tsMs / 1000),
      time: new Date(t.tsMs).toISOString(),
      price: t.prices[currency],
    })),
  });
}

export async function handleHealth(_request: Request, env: Env): Promise<Response> {
  const health = await hubStub(env).health();
  return json(health, health.ok ? 200 : 503);
}

import { describe, expect, it } from "vitest";
import type { CandlesBody } from "../../src/protocol";
import { connect, feedRequest } from "../support/feed";
import { fetchDocumented } from "../support/http";
import { publishTick } from "../support/hub";

const get = (path: string, init?: RequestInit) => fetchDocumented(new Request(`http://feed.test${path}`, init));

async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/json");
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toEqual(expect.any(String));
  return body.error.message;
}

describe("GET /pricefeed", () => {
  it("answers 426 without an upgrade", async () => {
    await expectError(await get("/pricefeed"), 426, "upgrade_required");
  });

  it.each([
    ["client_id=bad!id", "invalid_client_id", "bad!id"],
    ["currencies=USD,DOGE", "unsupported_currency", "DOGE"],
    ["start_timedate=yesterday", "invalid_start_timedate", "yesterday"],
    ["start_timedate=-1", "invalid_start_timedate", "-1"],
    ["last_seq=x", "invalid_last_seq", "x"],
  ])("rejects %s with 400 %s before upgrading", async (query, code, named) => {
    const response = await fetchDocumented(feedRequest(query));
    expect(response.webSocket).toBeNull();
    expect(await expectError(response, 400, code)).toContain(named);
  });

  it("generates an unguessable client_id when none is given", async () => {
    await publishTick();
    const a = await connect("currencies=EUR");
    const b = await connect("");
    const [wa] = await a.waitForFrames(1);
    const [wb] = await b.waitForFrames(1);
    const idA = (wa as { client_id: string }).client_id;
    const idB = (wb as { client_id: string }).client_id;
    expect(idA).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(idA).not.toBe(idB);
    expect(wa).toMatchObject({ type: "welcome", currencies: ["EUR"], resumed: false });
    a.close();
    b.close();
  });
});

describe("HTTP API", () => {
  it("serves the latest price in the asked currencies", async () => {
    const tick = await publishTick();
    const response = await get("/api/price?currencies=eur,usd");
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(await response.json()).toEqual({
      seq: tick.seq,
      ts: Math.floor(tick.tsMs / 1000),
      time: new Date(tick.tsMs).toISOString(),
      prices: { EUR: tick.prices.EUR, USD: tick.prices.USD },
      sources: ["test"],
      status: "live",
      stats_24h: { USD: expect.objectContaining({ open: expect.any(Number) }), EUR: expect.any(Object) },
    });
    await expectError(await get("/api/price?currencies=ABC"), 400, "unsupported_currency");
  });

  it("serves history for one currency over a window", async () => {
    const tick = await publishTick();
    const ts = Math.floor(tick.tsMs / 1000);
    const response = await get(`/api/history?currency=GBP&from=${ts - 10}&to=${ts}`);
    const body = (await response.json()) as { currency: string; points: { seq: number; price: number }[] };
    expect(body.currency).toBe("GBP");
    expect(body.points.at(-1)).toMatchObject({ seq: tick.seq, price: tick.prices.GBP });
    await expectError(await get("/api/history?currency=GBP&from=10&to=1"), 400, "invalid_parameter");
  });

  it("serves candles for one currency over a window", async () => {
    const tick = await publishTick();
    const ts = Math.floor(tick.tsMs / 1000);
    const response = await get(`/api/candles?currency=GBP&interval=5m&from=${ts - 10}&to=${ts}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as CandlesBody;
    expect(body).toMatchObject({ currency: "GBP", interval: "5m", next: null });
    expect(body.candles.at(-1)).toMatchObject({ time: ts - (ts % 300), close: tick.prices.GBP });
    await expectError(await get("/api/candles?interval=1d"), 400, "invalid_interval");
  });

  it("reports health", async () => {
    await publishTick();
    const response = await get("/health");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { ok: boolean; status: string; sources: unknown[]; last_tick: unknown };
    expect(body).toMatchObject({ ok: true, status: "live" });
    expect(Array.isArray(body.sources)).toBe(true);
  });

  it("answers CORS preflights, 404 and 405 as JSON", async () => {
    const preflight = await get("/api/price", { method: "OPTIONS" });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toContain("GET");
    await expectError(await get("/nope"), 404, "not_found");
    expect((await get("/home", { method: "HEAD" })).status).toBe(200);
    await expectError(await get("/api/price", { method: "POST" }), 405, "method_not_allowed");
    await expectError(await get("/api/candles", { method: "PUT" }), 405, "method_not_allowed");
    await expectError(await get("/pricefeed", { method: "DELETE" }), 405, "method_not_allowed");
  });
});

import { describe, expect, it } from "vitest";
import type { HistoryBody, PriceBody } from "../../src/protocol";
import { freshHost, getFrom, hubReads } from "../support/api";
import { publishTick } from "../support/hub";

const unmoved = (price: number) => ({ open: price, high: price, low: price, change: 0, change_pct: 0 });

describe("the edge cache in front of the hub", () => {
  it("answers a flood of /api/price in every spelling with one hub call, and every currency set from it", async () => {
    const tick = await publishTick();
    const base = freshHost();
    const before = await hubReads();
    const spellings = [
      "currencies=eur,usd",
      "currencies=USD,EUR",
      "currencies=usd,eur,USD",
      "currencies=%20EUR,%20usd",
      "currencies=EUR,USD&x=1",
      "currencies=USD,EUR&cache_bust=7",
    ];
    const responses = await Promise.all(
      Array.from({ length: 120 }, (_, i) => getFrom(base, `/api/price?${spellings[i % spellings.length]}`)),
    );
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1); // one set, one answer, byte for byte
    expect(new Set(responses.map((r) => r.headers.get("etag"))).size).toBe(1);
    expect(JSON.parse(bodies[0]!) as PriceBody).toEqual({
      seq: tick.seq,
      ts: Math.floor(tick.tsMs / 1000),
      time: new Date(tick.tsMs).toISOString(),
      prices: { USD: tick.prices.USD, EUR: tick.prices.EUR },
      sources: ["test"],
      status: "live",
      // The file's first tick: its 24 hours hold that one price.
      stats_24h: { USD: unmoved(tick.prices.USD!), EUR: unmoved(tick.prices.EUR!) },
    });
    const gbp = (await (await getFrom(base, "/api/price?currencies=gbp")).json()) as PriceBody;
    expect(gbp.prices).toEqual({ GBP: tick.prices.GBP });
    expect(gbp.stats_24h).toEqual({ GBP: unmoved(tick.prices.GBP!) });
    expect((await getFrom(base, "/api/price")).status).toBe(200);
    const after = await hubReads();
    expect(after.price - before.price).toBe(1);
  });

  it("pages /api/history with limit and next, one hub call per page however it is spelled", async () => {
    const ticks = [];
    for (let i = 0; i < 5; i++) ticks.push(await publishTick());
    const base = freshHost();
    const before = await hubReads();
    const walk = async (first: string) => {
      const seqs: number[] = [];
      let path: string | null = first;
      let pages = 0;
      while (path !== null) {
        const response = await getFrom(base, path);
        expect(response.status).toBe(200);
        const body = (await response.json()) as HistoryBody;
        expect(body.points.length).toBeLessThanOrEqual(2);
        seqs.push(...body.points.map((p) => p.seq));
        path = body.next;
        pages++;
      }
      return { seqs, pages };
    };
    const from = Math.floor(ticks[0]!.tsMs / 1000);
    const nowS = Math.ceil(Date.now() / 1000);
    const a = await walk(`/api/history?currency=USD&from=${from}&limit=2`);
    const wanted = ticks.map((t) => t.seq);
    expect(a.seqs.filter((s) => s >= wanted[0]!)).toEqual(wanted);
    const readsOfOneWalk = (await hubReads()).history - before.history;
    expect(readsOfOneWalk).toBe(a.pages);
    // Other spellings of the same question: case, order, junk, a `to` at or beyond now.
    const b = await walk(`/api/history?limit=2&from=${from}&currency=usd&junk=1`);
    const c = await walk(`/api/history?currency=USD&to=${nowS + 30}&from=${from}&limit=2`);
    expect(b.seqs).toEqual(a.seqs);
    expect(c.seqs).toEqual(a.seqs);
    expect((await hubReads()).history - before.history).toBe(readsOfOneWalk);
  });

  it("gives each point the stored price and its time, oldest first", async () => {
    const t = await publishTick({ USD: 91_234.56, EUR: 0.1 + 0.2 });
    const base = freshHost();
    const s = Math.floor(t.tsMs / 1000);
    for (const [currency, price] of [
      ["USD", 91_234.56],
      ["EUR", 0.1 + 0.2],
    ] as const) {
      const body = (await (
        await getFrom(base, `/api/history?currency=${currency}&from=${s}&to=${s}`)
      ).json()) as HistoryBody;
      expect(body).toMatchObject({ currency, from: s, to: s, next: null });
      expect(body.points.at(-1)).toEqual({ seq: t.seq, ts: s, time: new Date(t.tsMs).toISOString(), price });
    }
  });

  it("sends ETag and Cache-Control, and 304 for a matching If-None-Match, on every endpoint", async () => {
    await publishTick();
    const base = freshHost();
    for (const path of ["/api/price?currencies=USD,EUR", "/api/history?currency=EUR", "/health"]) {
      const first = await getFrom(base, path);
      expect(first.status).toBe(200);
      const etag = first.headers.get("etag")!;
      expect(etag).toMatch(/^"[^"]+"$/);
      expect(first.headers.get("cache-control")).toMatch(/^public, max-age=\d+$/);
      await first.arrayBuffer();
      const again = await getFrom(base, path, { "If-None-Match": `W/"other", ${etag}` });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe("");
      expect(again.headers.get("etag")).toBe(etag);
      expect(again.headers.get("access-control-allow-origin")).toBe("*");
      const other = await getFrom(base, path, { "If-None-Match": '"something-else"' });
      expect(other.status).toBe(200);
      await other.arrayBuffer();
    }
    const usd = await getFrom(base, "/api/price?currencies=USD");
    const usdEur = await getFrom(base, "/api/price?currencies=EUR,USD");
    expect(usd.headers.get("etag")).not.toBe(usdEur.headers.get("etag"));
  });

  it("answers 400 JSON for bad history parameters before asking anyone", async () => {
    const base = freshHost();
    const before = await hubReads();
    for (const query of [
      "limit=0",
      "limit=2001",
      "limit=x",
      "after=-1",
      "after=1&after=2",
      "from=10&to=1",
      "currency=DOGE",
    ]) {
      const response = await getFrom(base, `/api/history?${query}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    }
    expect((await hubReads()).history).toBe(before.history);
  });
});

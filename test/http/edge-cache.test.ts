import { describe, expect, it } from "vitest";
import { answerResponse } from "../../src/http/api";
import {
  ageSeconds,
  EdgeCache,
  HUB_RETRY_MS,
  MEMORY_BUDGET_BYTES,
  REFRESH_GRACE_MS,
  secondsLeft,
  STALE_LIMIT_S,
  ttlForInterval,
  type Answer,
} from "../../src/http/edge-cache";

/** An EdgeCache on a clock the test moves; `cache` is a real Cache (caches.default) or none. */
function setup(cache: Cache | null = null, hubTimeoutMs?: number) {
  let now = Date.UTC(2026, 10, 24, 20, 0, 0);
  const pending: Promise<unknown>[] = [];
  const edge = new EdgeCache({
    cache: () => cache,
    now: () => now,
    sleep: async (ms) => {
      await new Promise((r) => setTimeout(r, ms));
      now += ms;
    },
    hubTimeoutMs,
  });
  let loads = 0;
  const load = async (): Promise<Answer> => {
    loads++;
    await new Promise<void>((r) => setTimeout(r, 5)); // a hub call takes a moment: others arrive meanwhile
    return { body: JSON.stringify({ n: loads }), status: 200 };
  };
  const get = (key = "https://feed.test/__edge-cache/v1/k", ttl = 5) =>
    edge.get(
      key,
      load,
      () => ttl,
      (work) => void pending.push(work),
    );
  return {
    edge,
    get,
    loads: () => loads,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
    settle: () => Promise.all(pending),
    waitUntil: (work: Promise<unknown>) => void pending.push(work),
  };
}

describe("EdgeCache", () => {
  it("asks the hub once per key per TTL, from memory in between", async () => {
    const t = setup();
    const first = (await t.get())!;
    expect(first).toMatchObject({ source: "hub", status: 200, ttlS: 5 });
    expect(first.etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    t.advance(4_999);
    expect(await t.get()).toMatchObject({ source: "memory", body: first.body, etag: first.etag });
    expect(t.loads()).toBe(1);
    t.advance(1);
    expect(await t.get()).toMatchObject({ source: "hub", body: JSON.stringify({ n: 2 }) });
    expect(await t.get("https://feed.test/__edge-cache/v1/other")).toMatchObject({ source: "hub" });
    expect(t.loads()).toBe(3);
  });

  it("lets one request refresh an expired key while the others answer with the old value", async () => {
    const t = setup();
    await t.get();
    t.advance(5_000);
    const answers = await Promise.all(Array.from({ length: 50 }, () => t.get()));
    expect(t.loads()).toBe(2);
    expect(answers.filter((a) => a?.source === "hub")).toHaveLength(1);
    expect(answers.filter((a) => a?.source === "stale")).toHaveLength(49);
  });

  it("makes the first requests for a key wait for the one that asks the hub", async () => {
    const t = setup();
    const answers = await Promise.all(Array.from({ length: 50 }, () => t.get()));
    expect(t.loads()).toBe(1);
    expect(new Set(answers.map((a) => a?.body)).size).toBe(1);
    expect(answers[0]?.body).toBeDefined();
  });

  it("neither keeps the others waiting when the first request fails, nor piles them onto the hub", async () => {
    const t = setup();
    let calls = 0;
    const failing = async (): Promise<Answer> => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      if (calls === 1) throw new Error("hub unreachable");
      return { body: "{}", status: 200 };
    };
    const key = "https://feed.test/__edge-cache/v1/f";
    const get = () => t.edge.get(key, failing, () => 5, t.waitUntil);
    // Nothing to stand in for the failed first call: null (the caller's 503) for all, at once.
    expect(await Promise.all(Array.from({ length: 20 }, get))).toEqual(Array.from({ length: 20 }, () => null));
    expect(calls).toBe(1);
    expect(t.now()).toBeLessThan(Date.UTC(2026, 10, 24, 20, 0, 0) + REFRESH_GRACE_MS);
    t.advance(HUB_RETRY_MS);
    expect(await get()).toMatchObject({ source: "hub", body: "{}" });
  });

  it("keeps an answer's own TTL (a 503 for 1 s) and counts what is left of it", async () => {
    const t = setup();
    const key = "https://feed.test/__edge-cache/v1/health";
    const answer = (await t.edge.get(
      key,
      async () => ({ body: "{}", status: 503 }),
      (a) => (a.status === 200 ? 5 : 1),
      () => {},
    ))!;
    expect(answer.ttlS).toBe(1);
    expect(secondsLeft(answer, answer.storedAtMs)).toBe(1);
    expect(secondsLeft(answer, answer.storedAtMs + 999)).toBe(0);
    t.advance(1_000);
    expect(
      (
        await t.edge.get(
          key,
          async () => ({ body: "{}", status: 200 }),
          () => 5,
          () => {},
        )
      )?.source,
    ).toBe("hub");
  });

  it("shares answers with the location's other isolates through the Cache API", async () => {
    const a = setup(caches.default);
    const key = `https://iso-${Math.random().toString(36).slice(2)}.test/__edge-cache/v1/k`;
    const first = (await a.get(key))!;
    await a.settle(); // the put runs in waitUntil
    const b = setup(caches.default); // another isolate: empty memory, same location cache
    const again = await b.get(key);
    expect(again).toMatchObject({
      source: "cache",
      body: first.body,
      etag: first.etag,
      status: 200,
      storedAtMs: first.storedAtMs,
      ttlS: 5,
    });
    expect(b.loads()).toBe(0);
  });

  it("stores a 503 in the Cache API too, with its status kept beside it", async () => {
    const a = setup(caches.default);
    const key = `https://iso-${Math.random().toString(36).slice(2)}.test/__edge-cache/v1/health`;
    await a.edge.get(
      key,
      async () => ({ body: '{"ok":false}', status: 503 }),
      () => 1,
      a.waitUntil,
    );
    await a.settle();
    const b = setup(caches.default);
    expect(
      await b.edge.get(
        key,
        async () => ({ body: "{}", status: 200 }),
        () => 1,
        () => {},
      ),
    ).toMatchObject({ source: "cache", status: 503 });
  });

  it("keeps at most its memory budget, dropping the oldest keys first", async () => {
    const t = setup();
    const big = "x".repeat(MEMORY_BUDGET_BYTES / 4 - 100); // room for the keys, which count too
    for (let i = 0; i < 6; i++) {
      await t.edge.get(
        `https://feed.test/__edge-cache/v1/big-${i}`,
        async () => ({ body: big, status: 200 }),
        () => 5,
        () => {},
      );
    }
    expect(t.edge.size).toBe(4);
    expect(
      (
        await t.edge.get(
          "https://feed.test/__edge-cache/v1/big-5",
          async () => ({ body: "", status: 200 }),
          () => 5,
          () => {},
        )
      )?.source,
    ).toBe("memory");
    expect(
      (
        await t.edge.get(
          "https://feed.test/__edge-cache/v1/big-0",
          async () => ({ body: "", status: 200 }),
          () => 5,
          () => {},
        )
      )?.source,
    ).toBe("hub");
  });

  it("ties the TTL to the poll interval in whole seconds, at least one", () => {
    expect(ttlForInterval(5000)).toBe(5);
    expect(ttlForInterval(1000)).toBe(1);
    expect(ttlForInterval(250)).toBe(1);
    expect(ttlForInterval(2500)).toBe(3);
  });
});

describe("EdgeCache while the hub fails", () => {
  const failing = async (): Promise<Answer> => {
    throw new Error("hub down");
  };

  it("serves the expired answer marked stale with its age, and the hub's again once it is back", async () => {
    const t = setup();
    const first = (await t.get())!;
    t.advance(7_500);
    const stale = await t.edge.get("https://feed.test/__edge-cache/v1/k", failing, () => 5, t.waitUntil);
    expect(stale).toMatchObject({ source: "stale", body: first.body, etag: first.etag, status: 200 });
    expect(ageSeconds(stale!, t.now())).toBe(7);
    // The HTTP answer says so: stale, its age, not to be kept.
    const response = answerResponse(new Request("https://feed.test/api/x"), stale!, stale!.body, stale!.etag, t.now());
    expect(response.status).toBe(200);
    expect(response.headers.get("x-edge-cache")).toBe("stale");
    expect(response.headers.get("age")).toBe("7");
    expect(response.headers.get("cache-control")).toBe("public, max-age=0");
    expect(await response.text()).toBe(first.body);
    // Within HUB_RETRY_MS the hub is not asked again; past it, a working hub answers fresh.
    expect(await t.get()).toMatchObject({ source: "stale", body: first.body });
    expect(t.loads()).toBe(1);
    t.advance(HUB_RETRY_MS);
    expect(await t.get()).toMatchObject({ source: "hub", body: JSON.stringify({ n: 2 }) });
    expect(await t.get()).toMatchObject({ source: "memory", body: JSON.stringify({ n: 2 }) });
  });

  it("answers null for a key never fetched, asking the failing hub once per HUB_RETRY_MS", async () => {
    const t = setup();
    let calls = 0;
    const key = "https://feed.test/__edge-cache/v1/never";
    const get = () =>
      t.edge.get(
        key,
        async () => {
          calls++;
          throw new Error("hub down");
        },
        () => 5,
        t.waitUntil,
      );
    expect(await get()).toBeNull();
    expect(await get()).toBeNull();
    expect(calls).toBe(1);
    t.advance(HUB_RETRY_MS);
    expect(await get()).toBeNull();
    expect(calls).toBe(2);
  });

  it("counts a hub that does not answer in time as failed", async () => {
    const t = setup(null, 20);
    const first = (await t.get())!;
    t.advance(5_000);
    const hanging = () => new Promise<Answer>(() => {});
    expect(await t.edge.get("https://feed.test/__edge-cache/v1/k", hanging, () => 5, t.waitUntil)).toMatchObject({
      source: "stale",
      body: first.body,
    });
    expect(await t.edge.get("https://feed.test/__edge-cache/v1/other", hanging, () => 5, t.waitUntil)).toBeNull();
  });

  it("lets an answer stand in only up to its stale limit past its TTL", async () => {
    const t = setup();
    const key = "https://feed.test/__edge-cache/v1/health";
    await t.edge.get(
      key,
      async () => ({ body: "{}", status: 200 }),
      () => 5,
      t.waitUntil,
      30,
    );
    t.advance(34_999);
    expect(await t.edge.get(key, failing, () => 5, t.waitUntil, 30)).toMatchObject({ source: "stale" });
    t.advance(1 + HUB_RETRY_MS);
    expect(await t.edge.get(key, failing, () => 5, t.waitUntil, 30)).toBeNull();
    // The default limit is far longer.
    const other = setup();
    await other.get();
    other.advance((5 + STALE_LIMIT_S) * 1000 - 1);
    expect(
      await other.edge.get("https://feed.test/__edge-cache/v1/k", failing, () => 5, other.waitUntil),
    ).toMatchObject({
      source: "stale",
    });
  });

  it("serves another isolate's answer from the Cache API past its TTL, stale by its stored time", async () => {
    const key = `https://iso-${Math.random().toString(36).slice(2)}.test/__edge-cache/v1/k`;
    const a = setup(caches.default);
    const first = (await a.get(key, 1))!;
    await a.settle();
    // The Cache API's own clock is the real one: let the 1 s TTL pass for it too.
    await new Promise((r) => setTimeout(r, 1_200));
    const b = setup(caches.default); // another isolate, its clock past the TTL
    b.advance(1_200);
    const stale = await b.edge.get(key, failing, () => 1, b.waitUntil);
    expect(stale).toMatchObject({ source: "stale", body: first.body, storedAtMs: first.storedAtMs, ttlS: 1 });
    // A working hub past the TTL replaces it, although the Cache API still holds the old copy.
    const c = setup(caches.default);
    c.advance(1_200);
    expect(await c.get(key, 1)).toMatchObject({ source: "hub" });
  });
});

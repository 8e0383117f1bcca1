import { describe, expect, it } from "vitest";
import {
  EdgeCache,
  MEMORY_BUDGET_BYTES,
  REFRESH_GRACE_MS,
  secondsLeft,
  ttlForInterval,
  type Answer,
} from "../../src/http/edge-cache";

/** An EdgeCache on a clock the test moves; `cache` is a real Cache (caches.default) or none. */
function setup(cache: Cache | null = null) {
  let now = Date.UTC(2026, 10, 24, 20, 0, 0);
  const pending: Promise<unknown>[] = [];
  const edge = new EdgeCache({
    cache: () => cache,
    now: () => now,
    sleep: async (ms) => {
      await new Promise((r) => setTimeout(r, ms));
      now += ms;
    },
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
    const first = await t.get();
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
    expect(answers.filter((a) => a.source === "hub")).toHaveLength(1);
    expect(answers.filter((a) => a.source === "stale")).toHaveLength(49);
  });

  it("makes the first requests for a key wait for the one that asks the hub", async () => {
    const t = setup();
    const answers = await Promise.all(Array.from({ length: 50 }, () => t.get()));
    expect(t.loads()).toBe(1);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
  });

  it("does not leave the others waiting when the refreshing request fails", async () => {
    const t = setup();
    let calls = 0;
    const failing = async (): Promise<Answer> => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      if (calls === 1) throw new Error("hub unreachable");
      return { body: "{}", status: 200 };
    };
    const key = "https://feed.test/__edge-cache/v1/f";
    const results = await Promise.allSettled([
      t.edge.get(
        key,
        failing,
        () => 5,
        () => {},
      ),
      t.edge.get(
        key,
        failing,
        () => 5,
        () => {},
      ),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
    expect(t.now()).toBeLessThan(Date.UTC(2026, 10, 24, 20, 0, 0) + REFRESH_GRACE_MS);
  });

  it("keeps an answer's own TTL (a 503 for 1 s) and counts what is left of it", async () => {
    const t = setup();
    const key = "https://feed.test/__edge-cache/v1/health";
    const answer = await t.edge.get(
      key,
      async () => ({ body: "{}", status: 503 }),
      (a) => (a.status === 200 ? 5 : 1),
      () => {},
    );
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
      ).source,
    ).toBe("hub");
  });

  it("shares answers with the location's other isolates through the Cache API", async () => {
    const a = setup(caches.default);
    const key = `https://iso-${Math.random().toString(36).slice(2)}.test/__edge-cache/v1/k`;
    const first = await a.get(key);
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
    const big = "x".repeat(MEMORY_BUDGET_BYTES / 4);
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
      ).source,
    ).toBe("memory");
    expect(
      (
        await t.edge.get(
          "https://feed.test/__edge-cache/v1/big-0",
          async () => ({ body: "", status: 200 }),
          () => 5,
          () => {},
        )
      ).source,
    ).toBe("hub");
  });

  it("ties the TTL to the poll interval in whole seconds, at least one", () => {
    expect(ttlForInterval(5000)).toBe(5);
    expect(ttlForInterval(1000)).toBe(1);
    expect(ttlForInterval(250)).toBe(1);
    expect(ttlForInterval(2500)).toBe(3);
  });
});

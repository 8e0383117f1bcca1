import { reset } from "cloudflare:test";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type FeedClient } from "../support/feed";
import { fetchDocumented } from "../support/http";
import { publishTick, sleep } from "../support/hub";
import { withinOneLimiterWindow } from "../support/limiter-window";
import { randomRequests } from "./random-requests";

const fetchWorker = (path: string, init: RequestInit = {}) =>
  fetchDocumented(new Request(`http://feed.test${path}`, init));

afterEach(async () => {
  await reset(); // rate-limit counters and storage start clean for the next test
});

describe("rate limits per client address", () => {
  // Upgrades: test/http/upgrade-limits.test.ts.
  it("limits HTTP reads (/api and /health) per address, and the count starts over after a reset", async () => {
    for (const path of ["/api/price", "/health"]) {
      const { statuses, ip } = await withinOneLimiterWindow(async (attempt) => {
        const ip = `198.51.${100 + attempt}.${path.length}`;
        const from = () => fetchWorker(path, { headers: { "CF-Connecting-IP": ip } });
        const first = await Promise.all(Array.from({ length: 120 }, async () => (await from()).status));
        return { statuses: [...first, (await from()).status], ip };
      });
      const from = () => fetchWorker(path, { headers: { "CF-Connecting-IP": ip } });
      expect(statuses.slice(0, 120).filter((s) => s === 429)).toEqual([]);
      expect(statuses[120]).toBe(429);
      const limited = await from();
      expect(limited.headers.get("retry-after")).toBe("60");
      expect(await limited.json()).toMatchObject({ error: { code: "rate_limited", message: expect.any(String) } });
      // One budget for all of them: the address is refused candles too.
      expect((await fetchWorker("/api/candles", { headers: { "CF-Connecting-IP": ip } })).status).toBe(429);
      await reset();
      expect((await from()).status).not.toBe(429);
    }
  }, 60_000);

  it("counts an IPv6 /64 as one address for HTTP reads", async () => {
    const statuses = await withinOneLimiterWindow(async (attempt) => {
      const prefix = `2001:db8:${(0xa0 + attempt).toString(16)}:7`;
      const from = (host: string) => fetchWorker("/health", { headers: { "CF-Connecting-IP": `${prefix}::${host}` } });
      const first = await Promise.all(Array.from({ length: 120 }, async (_, i) => (await from(`${i + 1}`)).status));
      return [...first, (await from("ffff")).status];
    });
    expect(statuses.slice(0, 120).filter((s) => s === 429)).toEqual([]);
    expect(statuses[120]).toBe(429);
  }, 60_000);
});

describe("per-client and per-socket limits", () => {
  it("closes the sixth socket of one client_id with 1008 and leaves the others alone", async () => {
    await publishTick();
    const five: FeedClient[] = [];
    for (let i = 0; i < 5; i++) five.push(await connect("client_id=crowded"));
    await Promise.all(five.map((c) => c.waitForFrames(2)));
    const sixth = await connect("client_id=crowded");
    expect(await sixth.waitForClose()).toMatchObject({ code: 1008 });
    expect(sixth.frames).toEqual([expect.objectContaining({ type: "error", code: "too_many_sockets" })]);
    const t = await publishTick();
    for (const c of five) {
      await c.waitForSeq(t.seq);
      expect(c.closed).toBeNull();
    }
    for (const c of five) c.close();
  });

  it("answers oversized, binary, malformed and too-fast frames with errors; closes a persistent abuser", async () => {
    await publishTick();
    const client = await connect("client_id=noisy");
    await client.waitForFrames(2);
    client.send(JSON.stringify({ type: "subscribe", currencies: ["EUR"], pad: "x".repeat(5000) }));
    client.ws.send(new Uint8Array([1, 2, 3]));
    client.send("{oops");
    await client.waitForFrames(5);
    expect(client.frames.slice(2).map((f) => f.type === "error" && f.code)).toEqual([
      "frame_too_large",
      "binary_not_supported",
      "invalid_frame",
    ]);
    expect(client.closed).toBeNull();
    // A good frame resets the strikes.
    client.send({ type: "subscribe", currencies: ["EUR"] });
    await client.waitFor("subscribed");

    // Then a burst far above the allowed rate: refused, and the socket is closed with 1008.
    for (let i = 0; i < 30; i++) client.send({ type: "subscribe", currencies: ["GBP"] });
    expect(await client.waitForClose()).toMatchObject({ code: 1008 });
    expect(client.frames.some((f) => f.type === "error" && f.code === "too_many_frames")).toBe(true);
  });
});

describe("fuzz", () => {
  it("never answers 5xx to random queries and paths", async () => {
    await publishTick();
    await fc.assert(randomRequests(), { numRuns: 100 });
  }, 60_000);

  it("random frames never hurt the feed of a well-behaved client on the same or another client_id", async () => {
    await publishTick();
    const same = await connect("client_id=fuzzed&currencies=USD");
    const other = await connect("client_id=bystander&currencies=USD");
    await same.waitForFrames(2);
    await other.waitForFrames(2);
    let fuzzer = await connect("client_id=fuzzed");
    const published: number[] = [];

    const frame = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }),
      fc
        .record({
          type: fc.constantFrom("subscribe", "unsubscribe", "x"),
          currencies: fc.array(
            fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constantFrom("USD", "eur", "GBP")),
          ),
        })
        .map((o) => JSON.stringify(o)),
      fc.uint8Array({ maxLength: 64 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 8 }), async (frames) => {
        if (fuzzer.closed) {
          // Its reconnects count against its client_id (RESUMES_PER_MINUTE): a refused one sits the round out.
          fuzzer = await connect("client_id=fuzzed").catch((error: Error) => {
            if (!/got 429/.test(error.message)) throw error;
            return fuzzer;
          });
        }
        for (const f of frames) {
          try {
            fuzzer.ws.send(f);
          } catch {
            // closed by the server for abuse: reconnect next round
          }
        }
        published.push((await publishTick()).seq);
      }),
      { numRuns: 40 },
    );
    for (const client of [same, other]) {
      await client.waitForSeq(published.at(-1)!);
      const seqs = client.prices().map((p) => p.seq);
      expect(seqs.slice(1)).toEqual(published);
      expect(client.closed).toBeNull();
    }
    same.close();
    other.close();
    fuzzer.close();
    await sleep(10);
  }, 60_000);
});

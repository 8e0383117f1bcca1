/**
 * The limits on WebSocket upgrades: new sessions per address (IPv6 per /64), resumes per client_id.
 * An office behind one address must get all its known clients back after a deploy; a burst of new
 * client_ids from one address must not get through. Every burst uses addresses and client_ids of
 * its own, so no test's counts reach another's.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { NEW_SESSION_COUNTED } from "../../src/limits/new-session";
import { connect, FeedClient, feedRequest } from "../support/feed";
import { fetchDocumented } from "../support/http";
import { publishTick, sessionStub } from "../support/hub";
import { withinOneLimiterWindow } from "../support/limiter-window";

/** wrangler.toml: NEW_SESSION_LIMITER, and RESUMES_PER_MINUTE (counted by the session itself). */
const NEW_SESSIONS_PER_MINUTE = 60;
const RESUMES_PER_MINUTE = 20;

const unique = () => Math.random().toString(36).slice(2, 10);

/**
 * An upgrade from `ip`; a 101's socket is kept open in a FeedClient, anything else is returned as is
 * (its body checked against docs/openapi.yaml when read).
 */
async function upgrade(ip: string, query = "", headers: Record<string, string> = {}) {
  const response = await fetchDocumented(feedRequest(query, { "CF-Connecting-IP": ip, ...headers }));
  return { status: response.status, response, client: response.webSocket ? new FeedClient(response.webSocket) : null };
}

/** A burst of upgrades at once; the sockets that opened are closed again at once. */
async function burst(requests: (() => ReturnType<typeof upgrade>)[]) {
  const results = await Promise.all(requests.map((r) => r()));
  for (const r of results) r.client?.close();
  return results;
}

async function expectRateLimited(response: Response) {
  expect(response.status).toBe(429);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(await response.json()).toEqual({ error: { code: "rate_limited", message: expect.any(String) } });
}

const count = (results: { status: number }[], status: number) => results.filter((r) => r.status === status).length;

describe("an office behind one address", () => {
  it("gets all 90 known clients back at once after a restart", async () => {
    await publishTick();
    const ids = Array.from({ length: 90 }, (_, i) => `office-${i}-${unique()}`);
    // Each came once before (over the morning: from an address of its own here) and left.
    const before = await Promise.all(ids.map((id) => connect(`client_id=${id}`)));
    await Promise.all(before.map((c) => c.waitForFrames(2, 30_000)));
    // The deploy: every session object torn down, every socket gone.
    for (const id of ids) {
      await runInDurableObject(sessionStub(id), () => {});
      await evictDurableObject(sessionStub(id), { webSockets: "close" });
    }
    await Promise.all(before.map((c) => c.waitForClose(30_000)));

    // All at once, each socket kept open until its welcome (which follows its session's registration).
    const back = await Promise.all(ids.map((id) => upgrade("198.51.100.20", `client_id=${id}`)));
    expect(back.map((r) => r.status)).toEqual(ids.map(() => 101));
    const welcomes = await Promise.all(back.map(async (r) => (await r.client!.waitForFrames(1, 30_000))[0]));
    expect(welcomes.every((w) => w?.type === "welcome" && w.resumed)).toBe(true);
    for (const r of back) r.client?.close();
  }, 120_000);

  it("still refuses a burst of 120 new client_ids from one address: 429 with Retry-After", async () => {
    await publishTick();
    const { results, ip, noClientId } = await withinOneLimiterWindow(async (attempt) => {
      const ip = `198.51.100.${30 + attempt}`;
      // Half of them claim the Worker counted them already: the Worker drops a client's copy of that header.
      const results = await burst(
        Array.from(
          { length: 120 },
          (_, i) => () => upgrade(ip, `client_id=burst-${i}-${unique()}`, i % 2 ? { [NEW_SESSION_COUNTED]: "1" } : {}),
        ),
      );
      // Upgrades without client_id are new sessions too: the same budget, spent.
      const [noClientId] = await burst([() => upgrade(ip)]);
      return { results, ip, noClientId: noClientId! };
    });
    expect(count(results, 101)).toBe(NEW_SESSIONS_PER_MINUTE);
    expect(count(results, 429)).toBe(120 - NEW_SESSIONS_PER_MINUTE);
    await expectRateLimited(results.find((r) => r.status === 429)!.response);
    await expectRateLimited(noClientId.response);
    // Another address is not held back by it.
    const [other] = await burst([() => upgrade(`${ip}1`, `client_id=elsewhere-${unique()}`)]);
    expect(other?.status).toBe(101);
  }, 180_000);
});

describe("resumes", () => {
  it("are bounded per client_id, whatever the address", async () => {
    await publishTick();
    // A sliding minute, counted by the session: no window to straddle.
    const clientId = `restless-${unique()}`;
    const results = [];
    for (let i = 0; i < RESUMES_PER_MINUTE + 1; i++) {
      results.push(...(await burst([() => upgrade(`203.0.113.${i + 1}`, `client_id=${clientId}`)])));
    }
    expect(results.slice(0, RESUMES_PER_MINUTE).map((r) => r.status)).toEqual(
      Array.from({ length: RESUMES_PER_MINUTE }, () => 101),
    );
    await expectRateLimited(results.at(-1)!.response);
    // Retry-After names when the first of the minute's upgrades leaves it: within the minute.
    expect(Number(results.at(-1)!.response.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    // Another client_id from the same address is not held back.
    const [other] = await burst([() => upgrade("203.0.113.1", `client_id=calm-${unique()}`)]);
    expect(other?.status).toBe(101);
  }, 120_000);
});

describe("new sessions over IPv6", () => {
  it("count a /64 as one address: two addresses in one /64 share a budget, another /64 does not", async () => {
    const results = await withinOneLimiterWindow(async (attempt) => {
      const prefix = `2001:db8:${(attempt + 1).toString(16)}`;
      // Half of the budget from one address of the /64, half from another, then one more from each.
      const first = await burst(
        Array.from({ length: NEW_SESSIONS_PER_MINUTE }, (_, i) => () => upgrade(`${prefix}:1::${i % 2 ? "1" : "2"}`)),
      );
      const [last, sibling, neighbour] = await burst([
        () => upgrade(`${prefix}:1::1`),
        () => upgrade(`${prefix.toUpperCase()}:1:ffff:ffff:ffff:fffe`),
        () => upgrade(`${prefix}:2::1`),
      ]);
      return { first, last: last!, sibling: sibling!, neighbour: neighbour! };
    });
    expect(count(results.first, 101)).toBe(NEW_SESSIONS_PER_MINUTE);
    await expectRateLimited(results.last.response);
    await expectRateLimited(results.sibling.response);
    expect(results.neighbour.status).toBe(101);
  }, 180_000);
});

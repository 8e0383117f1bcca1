import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { deliverThroughRelays, deliverToSessions, DELIVERY_TIMEOUT_MS } from "../../src/relay/deliver";
import { readConfig } from "../../src/config";
import type { HubEvent, ReceiveResult } from "../../src/contracts";
import { SessionStubs } from "../../src/relay/session-stubs";
import type { Tick } from "../../src/protocol";
import { pageAfter } from "../../src/storage/tick-table";

const event: HubEvent = { kind: "status", status: { type: "status", state: "live" } };
const noBacklog = { backlog: () => Promise.reject(new Error("no backlog in this test")) };

/** Stand-in sessions: each id answers as told, so the report can be checked exactly. */
function fakeStubs(
  behaviour: Record<string, (event: HubEvent) => Promise<ReceiveResult>>,
  forgotten: string[] = [],
): SessionStubs {
  return {
    batch: (ids: readonly string[]) => ids.map((id) => ({ receive: (e: HubEvent) => behaviour[id]!(e) })),
    forget: (id: string) => forgotten.push(id),
  } as unknown as SessionStubs;
}

const tick = (seq: number): Tick => ({ seq, tsMs: seq * 1000, prices: { USD: seq }, changed: ["USD"], sources: [] });

describe("SessionStubs", () => {
  it("hands out the same stub for a client on every tick and forgets clients that left", () => {
    const stubs = new SessionStubs(env);
    const [a1, b1] = stubs.batch(["a", "b"]);
    const [b2, a2, c2] = stubs.batch(["b", "a", "c"]);
    expect(a2).toBe(a1);
    expect(b2).toBe(b1);
    expect(c2).not.toBe(a1);
    expect(stubs.size).toBe(3);

    const [a3] = stubs.batch(["a"]);
    expect(a3).toBe(a1);
    expect(stubs.size).toBe(1);
    const [b4] = stubs.batch(["b"]);
    expect(b4).not.toBe(b1); // b was forgotten when it left the batch
  });

  it("builds a fresh stub for a client whose stub was forgotten", () => {
    const stubs = new SessionStubs(env);
    const [first] = stubs.batch(["a"]);
    stubs.forget("a");
    const [second] = stubs.batch(["a"]);
    expect(second).not.toBe(first);
    expect(stubs.batch(["a"])[0]).toBe(second);
  });

  it("points each stub at the client's own object", () => {
    const [stub] = new SessionStubs(env).batch(["some-client"]);
    expect(stub!.id.equals(env.CLIENT_SESSION.idFromName("some-client"))).toBe(true);
  });
});

describe("deliverToSessions", () => {
  it("counts delivered, gone, failed and silent sessions, waiting no longer than the deadline", async () => {
    const forgotten: string[] = [];
    const stubs = fakeStubs(
      {
        live: async () => ({ subscribed: true }),
        expired: async () => ({ subscribed: false }),
        broken: async () => {
          throw new Error("session broken");
        },
        silent: () => new Promise<ReceiveResult>(() => {}),
      },
      forgotten,
    );
    const report = await deliverToSessions(stubs, event, ["live", "expired", "broken", "silent", "live"], {
      ...noBacklog,
      timeoutMs: 50,
    });
    expect(report).toEqual({ delivered: 2, failed: 2, gone: ["expired"] });
    // A stub whose call threw may be broken: it is rebuilt next tick. A silent one is kept.
    expect(forgotten).toEqual(["broken"]);
  });

  it("reports nothing for an empty batch", async () => {
    expect(await deliverToSessions(fakeStubs({}), event, [], { ...noBacklog, timeoutMs: 50 })).toEqual({
      delivered: 0,
      failed: 0,
      gone: [],
    });
  });

  it("reads the history once for every session with a hole, and gives each the part it misses", async () => {
    const t9 = tick(9);
    const sent: Record<string, HubEvent[]> = { a: [], b: [], c: [] };
    // a has everything up to 5, b up to 7, c up to 8: each answers "missing after" until it gets a backlog.
    const session =
      (id: string, handled: number) =>
      async (e: HubEvent): Promise<ReceiveResult> => {
        sent[id]!.push(e);
        return e.kind === "tick" && !e.backlog ? { subscribed: true, missingAfter: handled } : { subscribed: true };
      };
    const reads: number[] = [];
    const history = [4, 5, 6, 7, 8].map(tick);
    const report = await deliverToSessions(
      fakeStubs({ a: session("a", 5), b: session("b", 7), c: session("c", 8), d: async () => ({ subscribed: true }) }),
      { kind: "tick", tick: t9, epoch: "e" },
      ["a", "b", "c", "d"],
      {
        timeoutMs: 1000,
        backlog: async (afterSeq) => {
          reads.push(afterSeq);
          return { ticks: history.filter((t) => t.seq > afterSeq), gap: null };
        },
      },
    );
    expect(report).toEqual({ delivered: 4, failed: 0, gone: [] });
    expect(reads).toEqual([5]);
    const backlogOf = (id: string) =>
      (sent[id]![1] as Extract<HubEvent, { kind: "tick" }>).backlog!.ticks.map((t) => t.seq);
    expect(backlogOf("a")).toEqual([6, 7, 8]);
    expect(backlogOf("b")).toEqual([8]);
    expect(backlogOf("c")).toEqual([]);
  });

  it("counts a session failed when its backlog cannot be read, or when it still has a hole with one", async () => {
    const holey = async (): Promise<ReceiveResult> => ({ subscribed: true, missingAfter: 1 });
    const event = { kind: "tick", tick: tick(5), epoch: "e" } as const;
    expect(await deliverToSessions(fakeStubs({ a: holey }), event, ["a"], { ...noBacklog, timeoutMs: 1000 })).toEqual({
      delivered: 0,
      failed: 1,
      gone: [],
    });
    const throwing = () => {
      throw new Error("history unreadable");
    };
    expect(
      await deliverToSessions(fakeStubs({ a: holey }), event, ["a"], { timeoutMs: 1000, backlog: throwing }),
    ).toEqual({
      delivered: 0,
      failed: 1,
      gone: [],
    });
    const page = { ticks: [tick(2)], gap: null };
    expect(
      await deliverToSessions(fakeStubs({ a: holey }), event, ["a"], { timeoutMs: 1000, backlog: () => page }),
    ).toEqual({
      delivered: 0,
      failed: 1,
      gone: [],
    });
  });
});

describe("pageAfter", () => {
  it("keeps the ticks after a seq and the part of the gap after it", () => {
    const page = { ticks: [tick(8), tick(9)], gap: { fromSeq: 4, toSeq: 7 } };
    expect(pageAfter(page, 3)).toEqual(page);
    expect(pageAfter(page, 5)).toEqual({ ticks: [tick(8), tick(9)], gap: { fromSeq: 6, toSeq: 7 } });
    expect(pageAfter(page, 8)).toEqual({ ticks: [tick(9)], gap: null });
  });
});

describe("deliverThroughRelays", () => {
  const report = (delivered: number) => async () => ({ delivered, failed: 0, gone: [] });

  it("counts a relay that never answers, or throws, as its whole group failed, and returns at the deadline", async () => {
    const never = () => new Promise<never>(() => {});
    const result = await deliverThroughRelays(
      [
        { size: 3, send: report(3) },
        { size: 4, send: never },
        { size: 0, send: never }, // an empty group is not even asked
        { size: 2, send: async () => Promise.reject(new Error("relay down")) },
        { size: 5, send: async () => ({ delivered: 4, failed: 0, gone: ["x"] }) },
      ],
      50,
    );
    expect(result).toEqual({ report: { delivered: 7, failed: 6, gone: ["x"] }, failedRelays: [1, 3] });
  });

  it("waits longer for a relay than a relay waits for its sessions, by default", () => {
    expect(readConfig({}).relayTimeoutMs).toBeGreaterThan(DELIVERY_TIMEOUT_MS);
  });
});

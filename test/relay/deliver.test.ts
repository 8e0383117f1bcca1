import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { FanoutEvent, ReceiveResult } from "../../src/contracts";
import type { Tick } from "../../src/protocol";
import { childrenDeadlineMs } from "../../src/relay/deadlines";
import { deliverBatch, type Receiver } from "../../src/relay/deliver";
import { StubCache } from "../../src/relay/stub-cache";
import { MAX_DEPTH } from "../../src/relay/topology";
import { pageAfter } from "../../src/storage/tick-table";
import { sessionStub } from "../../src/stubs";

const status: FanoutEvent = { kind: "status", status: { type: "status", state: "live" }, atMs: 1 };
const epoch = { id: "e", startSeq: 1 };
const noBacklog = { backlog: () => Promise.reject(new Error("no backlog in this test")) };

const tick = (seq: number): Tick => ({ seq, tsMs: seq * 1000, prices: { USD: seq }, changed: ["USD"], sources: [] });

/** Stand-in receivers: each name answers as told, so the outcome can be checked exactly. */
const receivers = (behaviour: Record<string, (event: FanoutEvent) => Promise<ReceiveResult>>, names: string[]) =>
  names.map((name): Receiver<ReceiveResult> => ({ name, send: (e) => behaviour[name]!(e) }));

describe("StubCache", () => {
  it("hands out the same stub for a name on every event and forgets names that left", () => {
    let made = 0;
    const stubs = new StubCache((name) => ({ name, n: made++ }));
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

  it("builds a fresh stub for a name whose stub was forgotten", () => {
    const stubs = new StubCache((name) => ({ name }));
    const [first] = stubs.batch(["a"]);
    stubs.forget("a");
    const [second] = stubs.batch(["a"]);
    expect(second).not.toBe(first);
    expect(stubs.batch(["a"])[0]).toBe(second);
  });

  it("points each session stub at the client's own object", () => {
    const [stub] = new StubCache((id) => sessionStub(env, id)).batch(["some-client"]);
    expect(stub!.id.equals(env.CLIENT_SESSION.idFromName("some-client"))).toBe(true);
  });
});

describe("deliverBatch", () => {
  it("sorts receivers into handled, gone and failed, waiting no longer than the deadline", async () => {
    const behaviour = {
      live: async () => ({ subscribed: true }),
      away: async () => ({ subscribed: true, parked: true as const }),
      expired: async () => ({ subscribed: false }),
      broken: async () => {
        throw new Error("session broken");
      },
      silent: () => new Promise<ReceiveResult>(() => {}),
    };
    const names = ["live", "expired", "broken", "silent", "live", "away"];
    const outcome = await deliverBatch(receivers(behaviour, names), status, { ...noBacklog, timeoutMs: 50 });
    expect(outcome.handled.map((h) => h.name)).toEqual(["live", "live", "away"]);
    // A parked receiver handled the event and wants nothing more until it registers again.
    expect(outcome.parked).toEqual(["away"]);
    expect(outcome.gone).toEqual(["expired"]);
    expect(outcome.failed.sort()).toEqual(["broken", "silent"]);
    // A stub whose call threw may be broken: its sender builds a fresh one. A silent one is kept.
    expect(outcome.threw).toEqual(["broken"]);
  });

  it("reports nothing for an empty batch", async () => {
    expect(await deliverBatch([], status, { ...noBacklog, timeoutMs: 50 })).toEqual({
      handled: [],
      failed: [],
      threw: [],
      gone: [],
      parked: [],
    });
  });

  it("reads the history once for every receiver with a hole, and gives each the part it misses", async () => {
    const sent: Record<string, FanoutEvent[]> = { a: [], b: [], c: [] };
    // a has everything up to 5, b up to 7, c up to 8: each answers "missing after" until it gets a backlog.
    const session =
      (id: string, handled: number) =>
      async (e: FanoutEvent): Promise<ReceiveResult> => {
        sent[id]!.push(e);
        return e.kind !== "status" && !e.backlog ? { subscribed: true, missingAfter: handled } : { subscribed: true };
      };
    const reads: number[] = [];
    const history = [4, 5, 6, 7, 8].map(tick);
    const outcome = await deliverBatch(
      receivers({ a: session("a", 5), b: session("b", 7), c: session("c", 8), d: async () => ({ subscribed: true }) }, [
        "a",
        "b",
        "c",
        "d",
      ]),
      { kind: "tick", tick: tick(9), epoch },
      {
        timeoutMs: 1000,
        backlog: async (afterSeq) => {
          reads.push(afterSeq);
          return { ticks: history.filter((t) => t.seq > afterSeq), gap: null };
        },
      },
    );
    expect(outcome.handled.map((h) => h.name).sort()).toEqual(["a", "b", "c", "d"]);
    expect(outcome.failed).toEqual([]);
    expect(reads).toEqual([5]);
    const backlogOf = (id: string) =>
      (sent[id]![1] as Extract<FanoutEvent, { kind: "tick" }>).backlog!.ticks.map((t) => t.seq);
    expect(backlogOf("a")).toEqual([6, 7, 8]);
    expect(backlogOf("b")).toEqual([8]);
    expect(backlogOf("c")).toEqual([]);
  });

  it("fills a hole before a beat too: a receiver behind the head the beat names", async () => {
    const got: FanoutEvent[] = [];
    const behind = async (e: FanoutEvent): Promise<ReceiveResult> => {
      got.push(e);
      return e.kind === "beat" && !e.backlog ? { subscribed: true, missingAfter: 3 } : { subscribed: true };
    };
    const outcome = await deliverBatch(
      receivers({ a: behind }, ["a"]),
      { kind: "beat", epoch, headSeq: 5, atMs: 1 },
      { timeoutMs: 1000, backlog: () => ({ ticks: [tick(4), tick(5)], gap: null }) },
    );
    expect(outcome.handled).toHaveLength(1);
    expect(got[1]).toMatchObject({ kind: "beat", backlog: { ticks: [tick(4), tick(5)] } });
  });

  it("counts a receiver failed when its backlog cannot be read, or when it still has a hole with one", async () => {
    const holey = async (): Promise<ReceiveResult> => ({ subscribed: true, missingAfter: 1 });
    const event: FanoutEvent = { kind: "tick", tick: tick(5), epoch };
    const failedWith = async (backlog: Parameters<typeof deliverBatch>[2]["backlog"]) =>
      (await deliverBatch(receivers({ a: holey }, ["a"]), event, { timeoutMs: 1000, backlog })).failed;
    expect(await failedWith(noBacklog.backlog)).toEqual(["a"]);
    expect(
      await failedWith(() => {
        throw new Error("history unreadable");
      }),
    ).toEqual(["a"]);
    expect(await failedWith(() => ({ ticks: [tick(2)], gap: null }))).toEqual(["a"]);
  });
});

describe("deadlines", () => {
  it("let every level wait longer for its children than they wait for theirs", () => {
    for (let depth = -1; depth < MAX_DEPTH; depth++) {
      expect(childrenDeadlineMs(1000, depth)).toBeGreaterThan(childrenDeadlineMs(1000, depth + 1));
    }
    expect(childrenDeadlineMs(1000, MAX_DEPTH)).toBeGreaterThanOrEqual(1000);
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

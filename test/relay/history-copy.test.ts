import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CopyPage, Epoch, FanoutEvent } from "../../src/contracts";
import type { Tick } from "../../src/protocol";
import { HistoryCopy, placeEvent } from "../../src/relay/history-copy";
import { subtreeReport } from "../../src/relay/report";

const e1: Epoch = { id: "e1", startSeq: 1 };
const e2: Epoch = { id: "e2", startSeq: 20 };
const tick = (seq: number, tsMs = seq * 1000): Tick => ({
  seq,
  tsMs,
  prices: { USD: seq },
  changed: ["USD"],
  sources: [],
});
const tickEvent = (
  seq: number,
  epoch = e1,
  backlog?: { ticks: Tick[]; gap: { fromSeq: number; toSeq: number } | null },
) => ({ kind: "tick", tick: tick(seq), epoch, ...(backlog ? { backlog } : {}) }) as FanoutEvent;
const beat = (headSeq: number, epoch = e1): FanoutEvent => ({ kind: "beat", epoch, headSeq, atMs: 1 });
const live = { type: "status", state: "live" } as const;

describe("placeEvent", () => {
  const copy = { epoch: e1, headSeq: 10 };

  it("takes the next tick, holds a repeat, and asks for what lies before a hole", () => {
    expect(placeEvent(copy, tickEvent(11))).toEqual({ place: "next" });
    expect(placeEvent(copy, tickEvent(10))).toEqual({ place: "held" });
    expect(placeEvent(copy, tickEvent(13))).toEqual({ place: "hole", missingAfter: 10 });
    expect(placeEvent(copy, tickEvent(13, e1, { ticks: [tick(11), tick(12)], gap: null }))).toEqual({ place: "fill" });
  });

  it("reads a beat as the head it names", () => {
    expect(placeEvent(copy, beat(10))).toEqual({ place: "next" });
    expect(placeEvent(copy, beat(9))).toEqual({ place: "held" });
    expect(placeEvent(copy, beat(12))).toEqual({ place: "hole", missingAfter: 10 });
  });

  it("places an event of another epoch against that epoch's start", () => {
    expect(placeEvent(copy, tickEvent(20, e2))).toEqual({ place: "next" });
    // The first ticks of the new epoch were missed: ask from before its start, never from the old head.
    expect(placeEvent(copy, tickEvent(22, e2))).toEqual({ place: "hole", missingAfter: 19 });
  });
});

/** A HistoryCopy in an object of its own (a session's storage, never used as a session here). */
const inCopy = <T>(name: string, work: (copy: HistoryCopy) => T | Promise<T>) =>
  runInDurableObject(env.CLIENT_SESSION.get(env.CLIENT_SESSION.idFromName(`copy-${name}`)), (_i, state) =>
    work(new HistoryCopy(state.storage.sql, state.storage.kv)),
  );

/** A source of pages over `ticks`, as a parent's copyPage would answer. */
const pagesOf = (ticks: Tick[], epoch = e1, headSeq = ticks.at(-1)?.seq ?? 0) => {
  const calls: number[] = [];
  const page = async (after: number): Promise<CopyPage> => {
    calls.push(after);
    return {
      from: { epoch, headSeq, status: live, statusAtMs: 5 },
      ticks: ticks.filter((t) => t.seq > after).slice(0, 2),
    };
  };
  return { page, calls };
};

describe("HistoryCopy", () => {
  it("fills from its parent page by page, and counts as held only once the last page is in", async () => {
    const source = pagesOf([1, 2, 3, 4, 5].map((s) => tick(s)));
    await inCopy("fill", async (copy) => {
      expect(copy.state).toBeNull();
      await copy.fillFrom(source.page, 2);
      expect(source.calls).toEqual([0, 2, 4]);
      expect(copy.state).toEqual({ epoch: e1, headSeq: 5, status: live, statusAtMs: 5 });
      expect(copy.ticks.after(0, 10).ticks.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5]);
    });
  });

  it("starts a fill over when its source changes epoch halfway", async () => {
    let calls = 0;
    await inCopy("fill-epoch", async (copy) => {
      await copy.fillFrom(async (after) => {
        calls++;
        const epoch = calls === 1 ? e1 : e2;
        const all = calls === 1 ? [tick(1), tick(2)] : [tick(20), tick(21)];
        return {
          from: { epoch, headSeq: all.at(-1)!.seq, status: live, statusAtMs: 1 },
          ticks: all.filter((t) => t.seq > after),
        };
      }, 2);
      expect(copy.state?.epoch).toEqual(e2);
      expect(copy.ticks.after(0, 10).ticks.map((t) => t.seq)).toEqual([20, 21]);
    });
  });

  it("takes ticks in order, fills a hole from a backlog, and starts over for another epoch", async () => {
    await inCopy("take", async (copy) => {
      await copy.fillFrom(pagesOf([tick(1)]).page, 10);
      expect(copy.take(tickEvent(2), 2_000, 1e9)).toBe(true);
      expect(copy.take(tickEvent(5, e1, { ticks: [tick(3), tick(4)], gap: null }), 5_000, 1e9)).toBe(true);
      expect(copy.ticks.after(0, 10).ticks.map((t) => t.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(copy.state?.headSeq).toBe(5);
      expect(copy.take(tickEvent(20, e2), 20_000, 1e9)).toBe(true);
      expect(copy.state).toMatchObject({ epoch: e2, headSeq: 20 });
      expect(copy.ticks.after(0, 10).ticks.map((t) => t.seq)).toEqual([20]);
    });
  });

  it("stays contiguous: a backlog that cannot close a hole restarts the table; older seqs read as a gap", async () => {
    await inCopy("contiguous", async (copy) => {
      await copy.fillFrom(pagesOf([tick(1), tick(2)]).page, 10);
      copy.take(tickEvent(9, e1, { ticks: [tick(7), tick(8)], gap: { fromSeq: 3, toSeq: 6 } }), 9_000, 1e9);
      expect(copy.ticks.after(0, 10)).toEqual({ ticks: [tick(7), tick(8), tick(9)], gap: { fromSeq: 1, toSeq: 6 } });
    });
  });

  it("keeps the later of two statuses whatever order they arrive in", async () => {
    await inCopy("status", async (copy) => {
      await copy.fillFrom(pagesOf([tick(1)]).page, 10);
      const stale = { type: "status", state: "stale", since: 1 } as const;
      expect(copy.take({ kind: "status", status: stale, atMs: 50 }, 60, 1e9)).toBe(true);
      expect(copy.take({ kind: "status", status: live, atMs: 40 }, 60, 1e9)).toBe(false);
      expect(copy.state?.status).toEqual(stale);
    });
  });

  it("answers registrations from memory, and every take, retention cut or restart is seen at once", async () => {
    await inCopy("kept", async (copy) => {
      await copy.fillFrom(pagesOf([tick(1, 1_000), tick(2, 2_000)]).page, 10);
      const seqs = () => copy.read({ afterSeq: 0 }, 10).ticks.map((t) => t.seq);
      expect(seqs()).toEqual([1, 2]);
      expect(copy.read({ afterSeq: 0 }, 10)).toBe(copy.read({ afterSeq: 0 }, 10));
      expect(copy.snapshot()?.latest?.seq).toBe(2);
      copy.take(tickEvent(3), 10_000, 8_500);
      expect(seqs()).toEqual([2, 3]);
      expect(copy.read({ sinceMs: 0 }, 10).ticks.map((t) => t.seq)).toEqual([2, 3]);
      expect(copy.snapshot()).toMatchObject({ headSeq: 3, latest: { seq: 3 } });
      copy.take(tickEvent(20, e2), 20_000, 1e9);
      expect(seqs()).toEqual([20]);
      expect(copy.snapshot()).toMatchObject({ epoch: e2, headSeq: 20, latest: { seq: 20 } });
      copy.clear();
      expect(copy.snapshot()).toBeNull();
    });
  });

  it("forgets what it kept when a take rolls back", async () => {
    await runInDurableObject(
      env.CLIENT_SESSION.get(env.CLIENT_SESSION.idFromName("copy-rollback")),
      async (_i, state) => {
        const copy = new HistoryCopy(state.storage.sql, state.storage.kv);
        await copy.fillFrom(pagesOf([tick(1)]).page, 10);
        expect(copy.snapshot()?.latest?.seq).toBe(1);
        expect(() =>
          state.storage.transactionSync(() => {
            copy.take(tickEvent(2), 2_000, 1e9);
            throw new Error("disk full");
          }),
        ).toThrow("disk full");
        copy.reload();
        expect(copy.snapshot()).toMatchObject({ headSeq: 1, latest: { seq: 1 } });
      },
    );
  });

  it("keeps only the retention window", async () => {
    await inCopy("retention", async (copy) => {
      await copy.fillFrom(pagesOf([tick(1, 1_000), tick(2, 2_000)]).page, 10);
      copy.take(tickEvent(3), 10_000, 8_500);
      expect(copy.ticks.after(0, 10).ticks.map((t) => t.seq)).toEqual([2, 3]);
    });
  });
});

describe("subtreeReport", () => {
  it("adds up a subtree: counts, leaves, the deepest shard, the fullest, and each method's calls", () => {
    const child = subtreeReport(
      {
        depth: 1,
        members: 7,
        leaf: true,
        delivered: 7,
        failed: 0,
        gone: 1,
        parked: 2,
        calls: { deliver: 3, register: 9 },
      },
      [],
    );
    const other = subtreeReport(
      {
        depth: 1,
        members: 4,
        leaf: true,
        delivered: 3,
        failed: 1,
        gone: 0,
        parked: 0,
        calls: { deliver: 3, register: 2 },
      },
      [],
    );
    expect(
      subtreeReport(
        { depth: 0, members: 0, leaf: false, delivered: 0, failed: 0, gone: 0, parked: 0, calls: { deliver: 3 } },
        [child, other],
      ),
    ).toEqual({
      delivered: 10,
      failed: 1,
      gone: 1,
      parked: 2,
      shards: 3,
      leaves: 2,
      depth: 1,
      maxMembers: 7,
      shardCalls: { deliver: { total: 9, max: 3 }, register: { total: 11, max: 9 } },
    });
  });
});

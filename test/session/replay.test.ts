import { describe, expect, it } from "vitest";
import type { FeedSnapshot } from "../../src/contracts";
import { heldByClient, planReplay, planResume } from "../../src/session/replay";
import type { Link } from "../../src/session/session-state";
import { tick } from "../support/ticks";

const query = (q: Partial<{ lastSeq: number; startTimedate: number; epoch: string }> = {}) => ({
  lastSeq: q.lastSeq ?? null,
  startTimedate: q.startTimedate ?? null,
  epoch: q.epoch ?? null,
});
const live: Link = { state: "live" };
const offline = (fromSeq: number, sinceMs: number, behind = false): Link => ({
  state: "offline",
  fromSeq,
  sinceMs,
  gaps: [],
  behind,
});

describe("planReplay", () => {
  it("replays nothing for a new client or a second tab", () => {
    expect(planReplay(query(), null)).toEqual({ source: "none" });
    expect(planReplay(query(), { link: live })).toEqual({ source: "none" });
  });

  it("replays the whole buffer on a plain reconnect", () => {
    expect(planReplay(query(), { link: offline(11, 5000) })).toEqual({ source: "buffer", afterSeq: 10 });
  });

  it("replays from the shard for a session back from a restart: its buffer may lack what the client got last", () => {
    expect(planReplay(query(), { link: offline(11, 5000, true) })).toEqual({ source: "shard", afterSeq: 10 });
    expect(planReplay(query({ lastSeq: 12 }), { link: offline(11, 5000, true) })).toEqual({
      source: "shard",
      afterSeq: 12,
    });
    expect(planReplay(query({ startTimedate: 6 }), { link: offline(11, 5000, true) })).toEqual({
      source: "shard",
      sinceMs: 6000,
    });
  });

  it("serves last_seq from the buffer only when the buffer covers it", () => {
    expect(planReplay(query({ lastSeq: 10 }), { link: offline(11, 5000) })).toEqual({ source: "buffer", afterSeq: 10 });
    expect(planReplay(query({ lastSeq: 12 }), { link: offline(11, 5000) })).toEqual({ source: "buffer", afterSeq: 12 });
    expect(planReplay(query({ lastSeq: 9 }), { link: offline(11, 5000) })).toEqual({ source: "shard", afterSeq: 9 });
    expect(planReplay(query({ lastSeq: 9 }), { link: live })).toEqual({ source: "shard", afterSeq: 9 });
  });

  it("serves start_timedate from the buffer only when it starts after the client left", () => {
    expect(planReplay(query({ startTimedate: 6 }), { link: offline(11, 5000) })).toEqual({
      source: "buffer",
      sinceMs: 6000,
    });
    expect(planReplay(query({ startTimedate: 4 }), { link: offline(11, 5000) })).toEqual({
      source: "shard",
      sinceMs: 4000,
    });
    expect(planReplay(query({ startTimedate: 4 }), { link: live })).toEqual({ source: "shard", sinceMs: 4000 });
  });

  it("prefers the exact last_seq over start_timedate", () => {
    expect(planReplay(query({ lastSeq: 10, startTimedate: 1 }), { link: offline(11, 5000) })).toEqual({
      source: "buffer",
      afterSeq: 10,
    });
  });
});

describe("planResume", () => {
  const record = (link: Link, resetFrom: string | null = null) => ({ link, epoch: "e2", resetFrom });

  it("never replays by a last_seq from another epoch: it resets", () => {
    expect(planResume(query({ lastSeq: 10, epoch: "e1" }), record(offline(11, 5000)))).toEqual({
      resetFrom: "e1",
      replay: { source: "none" },
    });
  });

  it("replays by last_seq when the epoch matches or is not given", () => {
    expect(planResume(query({ lastSeq: 10, epoch: "e2" }), record(offline(11, 5000)))).toEqual({
      resetFrom: null,
      replay: { source: "buffer", afterSeq: 10 },
    });
    expect(planResume(query({ lastSeq: 10 }), record(offline(11, 5000))).replay).toEqual({
      source: "buffer",
      afterSeq: 10,
    });
  });

  it("tells a client the history changed while it was away, then replays the new history's buffer", () => {
    expect(planResume(query(), record(offline(1, 5000), "e1"))).toEqual({
      resetFrom: "e1",
      replay: { source: "buffer", afterSeq: 0 },
    });
    // Its last_seq belongs to the old history: no replay by it.
    expect(planResume(query({ lastSeq: 40 }), record(offline(1, 5000), "e1"))).toEqual({
      resetFrom: "e1",
      replay: { source: "none" },
    });
    // A client that already knows the new epoch is not told again.
    expect(planResume(query({ lastSeq: 3, epoch: "e2" }), record(offline(1, 5000), "e1")).resetFrom).toBeNull();
  });
});

describe("heldByClient", () => {
  const registered = (headSeq: number, latestSeq: number | null, epoch = "e1"): FeedSnapshot => ({
    epoch: { id: epoch, startSeq: 1 },
    headSeq,
    latest: latestSeq === null ? null : tick(latestSeq),
    status: { type: "status", state: "live" },
    statusAtMs: 0,
  });
  const plan = (q: ReturnType<typeof query>) =>
    planResume(q, { link: offline(11, 5000, true), epoch: "e1", resetFrom: null });

  it("is the client's last_seq, and the shard's newest tick when the client holds it", () => {
    const q = query({ lastSeq: 15, epoch: "e1" });
    expect(heldByClient(q, plan(q), registered(15, 15), "e1")).toEqual({ upToSeq: 15, latest: tick(15) });
    // Ticks 16 and 17 are still to be replayed: the client holds up to 15 only, and not the newest tick.
    expect(heldByClient(q, plan(q), registered(17, 17), "e1")).toEqual({ upToSeq: 15, latest: null });
  });

  it("never goes past the head the shard registered the session with", () => {
    const q = query({ lastSeq: 99, epoch: "e1" });
    expect(heldByClient(q, plan(q), registered(15, 14), "e1")).toEqual({ upToSeq: 15, latest: tick(14) });
  });

  it("is nothing without a last_seq, from another history, or without a registration", () => {
    const plain = query();
    expect(heldByClient(plain, plan(plain), registered(15, 15), "e1")).toBeNull();
    const foreign = query({ lastSeq: 15, epoch: "e0" });
    expect(heldByClient(foreign, plan(foreign), registered(15, 15), "e1")).toBeNull();
    const q = query({ lastSeq: 15 });
    expect(heldByClient(q, plan(q), registered(15, 15, "e2"), "e1")).toBeNull();
    expect(heldByClient(q, plan(q), null, "e1")).toBeNull();
  });
});

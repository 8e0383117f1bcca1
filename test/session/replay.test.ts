import { describe, expect, it } from "vitest";
import { planReplay, planResume } from "../../src/session/replay";
import type { Link } from "../../src/session/session-state";

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

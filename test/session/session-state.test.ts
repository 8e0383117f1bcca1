import { describe, expect, it } from "vitest";
import type { Tick } from "../../src/protocol";
import {
  afterReplay,
  caughtUp,
  changeEpoch,
  goOffline,
  onAlarm,
  onWake,
  readRecord,
  recordGap,
  routeTick,
  type SessionRecord,
} from "../../src/session/session-state";

const tick = (seq: number): Tick => ({
  seq,
  tsMs: seq * 1000,
  prices: { USD: seq },
  changed: ["USD"],
  sources: ["test"],
});

const live: SessionRecord = {
  clientId: "c",
  epoch: "e1",
  currencies: ["USD"],
  status: { type: "status", state: "live" },
  onHub: true,
  handledSeq: 10,
  lastTick: tick(10),
  link: { state: "live" },
  resetFrom: null,
};
const offline = (fromSeq: number, behind = false): SessionRecord => ({
  ...live,
  handledSeq: fromSeq - 1,
  link: { state: "offline", fromSeq, sinceMs: 1_000, gap: null, behind },
});

describe("onWake", () => {
  it("keeps a live record with a live socket, taking the newest mark from the attachments", () => {
    expect(onWake(live, { live: 1, marks: [{ handledSeq: 12, lastTick: tick(12) }] }, 5)).toEqual({
      ...live,
      handledSeq: 12,
      lastTick: tick(12),
    });
  });

  it("sends a live record with no socket left offline from its durable mark, behind: the runtime restarted", () => {
    expect(onWake(live, { live: 0, marks: [] }, 5)).toEqual({
      ...live,
      link: { state: "offline", fromSeq: 11, sinceMs: 5, gap: null, behind: true },
    });
  });

  it("knows the exact mark when the last socket's attachment holds it (woken by its close): not behind", () => {
    expect(onWake(live, { live: 0, marks: [{ handledSeq: 14, lastTick: tick(14) }] }, 5)).toMatchObject({
      handledSeq: 14,
      link: { state: "offline", fromSeq: 15, behind: false },
    });
  });

  it("leaves an offline record as it is", () => {
    expect(onWake(offline(11), { live: 0, marks: [] }, 5)).toEqual(offline(11));
  });
});

describe("routeTick", () => {
  it("drops what the session has handled, sends a live one, buffers an offline one", () => {
    expect(routeTick(live, tick(10))).toEqual({ route: "drop" });
    expect(routeTick(live, tick(11))).toEqual({
      route: "sockets",
      record: { ...live, handledSeq: 11, lastTick: tick(11) },
    });
    expect(routeTick(offline(11), tick(11))).toMatchObject({ route: "buffer", record: { handledSeq: 11 } });
  });
});

describe("afterReplay", () => {
  it("goes live and moves the mark past what the replay sent, when the socket is still open", () => {
    expect(afterReplay({ ...offline(11), resetFrom: "e0" }, true, tick(13))).toEqual({
      ...live,
      handledSeq: 13,
      lastTick: tick(13),
    });
  });

  it("changes nothing when the socket closed during its replay: the buffer and the mark stay", () => {
    expect(afterReplay(offline(11), false, tick(13))).toEqual(offline(11));
  });
});

describe("gaps, catch-up and epochs", () => {
  it("merges gaps an offline session must tell, and ignores them while live", () => {
    const once = recordGap(offline(11), { fromSeq: 11, toSeq: 12 });
    expect(recordGap(once, { fromSeq: 14, toSeq: 15 }).link).toMatchObject({ gap: { fromSeq: 11, toSeq: 15 } });
    expect(recordGap(live, { fromSeq: 1, toSeq: 2 })).toBe(live);
  });

  it("is no longer behind once a catch-up reached the hub's latest", () => {
    expect(caughtUp(offline(11, true)).link).toMatchObject({ behind: false });
  });

  it("starts over in a new epoch, remembering for an absent client which epoch it knew", () => {
    expect(changeEpoch(offline(11), "e2", 1)).toMatchObject({
      epoch: "e2",
      handledSeq: 0,
      lastTick: null,
      resetFrom: "e1",
      link: { state: "offline", fromSeq: 1, gap: null },
    });
    expect(changeEpoch(live, "e2", 1)).toMatchObject({
      epoch: "e2",
      handledSeq: 0,
      resetFrom: null,
      link: { state: "live" },
    });
  });
});

describe("onAlarm", () => {
  it("renews the lease while a socket is open, waits out the TTL, then purges", () => {
    expect(onAlarm(live, 1, 5_000, 100_000)).toEqual({ action: "renew", nextAtMs: 105_000 });
    // A short TTL does not make the lease (a durable checkpoint per client) fire more than once a minute.
    expect(onAlarm(live, 1, 5_000, 5_000)).toEqual({ action: "renew", nextAtMs: 65_000 });
    expect(onAlarm(offline(11), 0, 50_000, 100_000)).toEqual({ action: "wait", nextAtMs: 101_000 });
    expect(onAlarm(offline(11), 0, 101_000, 100_000)).toEqual({ action: "purge" });
    expect(onAlarm(null, 0, 1, 100_000)).toEqual({ action: "purge" });
  });

  it("gives a live record without a socket its whole TTL from now", () => {
    expect(onAlarm(live, 0, 5_000, 100_000)).toEqual({ action: "wait", nextAtMs: 105_000 });
  });
});

describe("readRecord", () => {
  it("reads a record stored by the previous version, live or offline", () => {
    const legacy = {
      clientId: "c",
      lastTick: tick(9),
      currencies: ["USD"],
      status: { type: "status", state: "live" },
      bufferGap: null,
      onHub: true,
      deliveredSeq: 9,
      offlineFromSeq: 8,
      offlineFromMs: 700,
    };
    expect(readRecord(legacy, 5)).toEqual({
      clientId: "c",
      epoch: "",
      currencies: ["USD"],
      status: { type: "status", state: "live" },
      onHub: true,
      handledSeq: 9,
      lastTick: tick(9),
      link: { state: "offline", fromSeq: 8, sinceMs: 700, gap: null, behind: false },
      resetFrom: null,
    });
    expect(readRecord({ ...legacy, offlineFromSeq: null }, 5)?.link).toEqual({ state: "live" });
    expect(readRecord(live, 5)).toBe(live);
    expect(readRecord(undefined, 5)).toBeNull();
  });

  it("goes offline from a mark, once", () => {
    const gone = goOffline(live, 7);
    expect(gone.link).toEqual({ state: "offline", fromSeq: 11, sinceMs: 7, gap: null, behind: false });
    expect(goOffline(gone, 9)).toBe(gone);
  });
});

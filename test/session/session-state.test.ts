import { describe, expect, it } from "vitest";
import type { FeedSnapshot } from "../../src/contracts";
import {
  addGap,
  afterRegistration,
  afterReplay,
  alarmDecision,
  bufferMayHoldTicks,
  caughtUp,
  changeEpoch,
  goOffline,
  newRecord,
  readRecord,
  recordAfterWake,
  recordGap,
  replaysFromShard,
  routeTick,
  type SessionRecord,
} from "../../src/session/session-state";
import { tick } from "../support/ticks";

const live: SessionRecord = {
  clientId: "c",
  epoch: "e1",
  currencies: ["USD"],
  status: { type: "status", state: "live" },
  statusAtMs: 100,
  shard: "a",
  handledSeq: 10,
  lastTick: tick(10),
  link: { state: "live" },
  resetFrom: null,
};
const offline = (fromSeq: number, behind = false): SessionRecord => ({
  ...live,
  handledSeq: fromSeq - 1,
  link: { state: "offline", fromSeq, sinceMs: 1_000, gaps: [], behind },
});

describe("replaysFromShard", () => {
  it("holds only for a session offline since a restart, until a catch-up or a socket clears it", () => {
    const restarted = recordAfterWake(live, { live: 0, marks: [] }, 5);
    expect(replaysFromShard(restarted)).toBe(true);
    expect(replaysFromShard(caughtUp(restarted))).toBe(false);
    expect(replaysFromShard(afterReplay(restarted, true, null))).toBe(false);
    // A socket that closed (its attachment had the mark) leaves an exact buffer start: not behind.
    expect(replaysFromShard(recordAfterWake(live, { live: 0, marks: [{ handledSeq: 12, lastTick: null }] }, 5))).toBe(
      false,
    );
    expect(replaysFromShard(live)).toBe(false);
    expect(replaysFromShard(offline(3))).toBe(false);
    expect(replaysFromShard(offline(3, true))).toBe(true);
  });
});

describe("bufferMayHoldTicks", () => {
  it("holds once a tick was buffered while offline, never for a live session or one that handled nothing", () => {
    expect(bufferMayHoldTicks(live)).toBe(false);
    const away = goOffline(live, 5);
    expect(bufferMayHoldTicks(away)).toBe(false);
    expect(bufferMayHoldTicks(recordAfterWake(live, { live: 0, marks: [] }, 5))).toBe(false);
    const buffered = routeTick(away, tick(11));
    expect(buffered.route).toBe("buffer");
    if (buffered.route !== "drop") expect(bufferMayHoldTicks(buffered.record)).toBe(true);
    // Back from a restart with ticks already buffered before it: the buffer still holds them.
    const shardAhead = afterRegistration({ ...away, handledSeq: 12 }, "a", {
      epoch: { id: "e1", startSeq: 1 },
      headSeq: 20,
      latest: tick(20),
      status: live.status,
      statusAtMs: 100,
    });
    expect(replaysFromShard(shardAhead)).toBe(true);
    expect(bufferMayHoldTicks(shardAhead)).toBe(true);
  });
});

describe("recordAfterWake", () => {
  it("keeps a live record with a live socket, taking the newest mark from the attachments", () => {
    expect(recordAfterWake(live, { live: 1, marks: [{ handledSeq: 12, lastTick: tick(12) }] }, 5)).toEqual({
      ...live,
      handledSeq: 12,
      lastTick: tick(12),
    });
  });

  it("sends a live record with no socket left offline from its durable mark, behind: the runtime restarted", () => {
    expect(recordAfterWake(live, { live: 0, marks: [] }, 5)).toEqual({
      ...live,
      link: { state: "offline", fromSeq: 11, sinceMs: 5, gaps: [], behind: true },
    });
  });

  it("knows the exact mark when the last socket's attachment holds it (woken by its close): not behind", () => {
    expect(recordAfterWake(live, { live: 0, marks: [{ handledSeq: 14, lastTick: tick(14) }] }, 5)).toMatchObject({
      handledSeq: 14,
      link: { state: "offline", fromSeq: 15, behind: false },
    });
  });

  it("leaves an offline record as it is", () => {
    expect(recordAfterWake(offline(11), { live: 0, marks: [] }, 5)).toEqual(offline(11));
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
    expect(afterReplay(offline(11), false, null, { upToSeq: 15, latest: tick(15) })).toEqual(offline(11));
  });

  it("stands where the client said it was, when that is past the mark and nothing later was replayed", () => {
    // Back from a restart with a mark at 10: the client holds up to 15, and the shard's newest is 15.
    expect(afterReplay(offline(11), true, null, { upToSeq: 15, latest: tick(15) })).toMatchObject({
      link: { state: "live" },
      handledSeq: 15,
      lastTick: tick(15),
    });
    // The shard's newest tick is not among what the client holds: the mark moves, the price stays the newest known.
    expect(afterReplay(offline(11), true, null, { upToSeq: 15, latest: null })).toMatchObject({
      handledSeq: 15,
      lastTick: tick(10),
    });
    // A replay past it wins; a client behind the session's own mark moves nothing back.
    expect(afterReplay(offline(11), true, tick(17), { upToSeq: 15, latest: tick(15) })).toMatchObject({
      handledSeq: 17,
      lastTick: tick(17),
    });
    expect(afterReplay(offline(11), true, null, { upToSeq: 8, latest: tick(8) })).toMatchObject({
      handledSeq: 10,
      lastTick: tick(10),
    });
  });
});

describe("gaps, catch-up and epochs", () => {
  it("keeps gaps an offline session must tell apart when a tick lies between them, and ignores them while live", () => {
    const once = recordGap(offline(11), { fromSeq: 11, toSeq: 12 });
    // 13 is buffered: one merged range 11..15 would tell the client 13 never comes, and it would drop it.
    expect(recordGap(once, { fromSeq: 14, toSeq: 15 }).link).toMatchObject({
      gaps: [
        { fromSeq: 11, toSeq: 12 },
        { fromSeq: 14, toSeq: 15 },
      ],
    });
    expect(recordGap(live, { fromSeq: 1, toSeq: 2 })).toBe(live);
  });

  it("merges only gaps that overlap or touch, and keeps them in seq order", () => {
    expect(addGap([{ fromSeq: 20, toSeq: 22 }], { fromSeq: 3, toSeq: 4 })).toEqual([
      { fromSeq: 3, toSeq: 4 },
      { fromSeq: 20, toSeq: 22 },
    ]);
    expect(addGap([{ fromSeq: 3, toSeq: 4 }], { fromSeq: 5, toSeq: 9 })).toEqual([{ fromSeq: 3, toSeq: 9 }]);
    expect(
      addGap(
        [
          { fromSeq: 3, toSeq: 4 },
          { fromSeq: 8, toSeq: 9 },
        ],
        { fromSeq: 4, toSeq: 8 },
      ),
    ).toEqual([{ fromSeq: 3, toSeq: 9 }]);
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
      link: { state: "offline", fromSeq: 1, gaps: [] },
    });
    expect(changeEpoch(live, "e2", 1)).toMatchObject({
      epoch: "e2",
      handledSeq: 0,
      resetFrom: null,
      link: { state: "live" },
    });
  });
});

describe("alarmDecision", () => {
  it("renews the lease while a socket is open, waits out the TTL, then purges", () => {
    expect(alarmDecision(live, 1, 5_000, 100_000)).toEqual({ action: "renew", nextAtMs: 105_000 });
    // A short TTL does not make the lease (a durable checkpoint per client) fire more than once a minute.
    expect(alarmDecision(live, 1, 5_000, 5_000)).toEqual({ action: "renew", nextAtMs: 65_000 });
    expect(alarmDecision(offline(11), 0, 50_000, 100_000)).toEqual({ action: "wait", nextAtMs: 101_000 });
    expect(alarmDecision(offline(11), 0, 101_000, 100_000)).toEqual({ action: "purge" });
    expect(alarmDecision(null, 0, 1, 100_000)).toEqual({ action: "purge" });
  });

  it("gives a live record without a socket its whole TTL from now", () => {
    expect(alarmDecision(live, 0, 5_000, 100_000)).toEqual({ action: "wait", nextAtMs: 105_000 });
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
      statusAtMs: 0,
      shard: null,
      handledSeq: 9,
      lastTick: tick(9),
      link: { state: "offline", fromSeq: 8, sinceMs: 700, gaps: [], behind: false },
      resetFrom: null,
    });
    expect(readRecord({ ...legacy, offlineFromSeq: null }, 5)?.link).toEqual({ state: "live" });
    expect(readRecord(live, 5)).toEqual(live);
    expect(readRecord(undefined, 5)).toBeNull();
  });

  it("reads a record from before the fan-out tree: one gap becomes a list, and it registers with a shard", () => {
    const { shard: _shard, statusAtMs: _at, ...rest } = offline(11);
    const stored = {
      ...rest,
      onHub: true,
      link: { state: "offline", fromSeq: 11, sinceMs: 1_000, gap: { fromSeq: 11, toSeq: 12 }, behind: false },
    };
    expect(readRecord(stored, 5)).toMatchObject({
      shard: null,
      statusAtMs: 0,
      link: { state: "offline", gaps: [{ fromSeq: 11, toSeq: 12 }] },
    });
  });

  it("goes offline from a mark, once", () => {
    const gone = goOffline(live, 7);
    expect(gone.link).toEqual({ state: "offline", fromSeq: 11, sinceMs: 7, gaps: [], behind: false });
    expect(goOffline(gone, 9)).toBe(gone);
  });
});

const snapshot = (over: Partial<FeedSnapshot> = {}): FeedSnapshot => ({
  epoch: { id: "e1", startSeq: 1 },
  headSeq: 10,
  latest: tick(10),
  status: { type: "status", state: "live" },
  statusAtMs: 100,
  ...over,
});

describe("registration", () => {
  it("starts a new client at its shard's head, not at its latest tick: an emptied history is no gap", () => {
    // The history was cleared (another source kind) while seq went on: head 40, no tick held.
    const record = newRecord(
      "c",
      ["USD"],
      "",
      snapshot({ epoch: { id: "e2", startSeq: 41 }, headSeq: 40, latest: null }),
    );
    expect(record).toMatchObject({ handledSeq: 40, epoch: "e2", shard: "", link: { state: "live" } });
  });

  it("learns another epoch from its shard and starts over in it, remembering for its client which it knew", () => {
    const after = afterRegistration(offline(11), "b", snapshot({ epoch: { id: "e9", startSeq: 1 }, headSeq: 3 }));
    expect(after).toMatchObject({ epoch: "e9", handledSeq: 0, shard: "b", resetFrom: "e1" });
  });

  it("is behind when its shard's head is past its mark: the replay reads the shard", () => {
    expect(afterRegistration(offline(11), "a", snapshot({ headSeq: 12 })).link).toMatchObject({ behind: true });
    expect(afterRegistration(offline(11), "a", snapshot({ headSeq: 10 })).link).toMatchObject({ behind: false });
  });

  it("takes its shard's status only when it is newer than its own", () => {
    const stale = { type: "status", state: "stale", since: 5 } as const;
    expect(afterRegistration(live, "a", snapshot({ status: stale, statusAtMs: 200 })).status).toEqual(stale);
    expect(afterRegistration(live, "a", snapshot({ status: stale, statusAtMs: 50 })).status).toEqual(live.status);
  });
});

import type { Currency, StatusMessage, Tick } from "../protocol";
import type { SeqRange } from "../storage/tick-table";

/**
 * Where a client's ticks go. There is no third state in storage: a purged session has no record.
 *
 *   (none) ──connect──> live ──last socket gone──> offline ──reconnect, replay sent──> live
 *                        │   ──woken with no socket (restart)──> offline, behind          │
 *                        └─────────── lease alarm with a socket: checkpoint ───────────────┘
 *   offline ──CLIENT_TTL_S without a socket──> purged (no record)
 */
export type Link =
  /** A socket has had its welcome and replay: ticks are sent to it. */
  | { state: "live" }
  /**
   * No socket: every tick from `fromSeq` to the record's `handledSeq` is in the buffer or in `gap`.
   * `behind`: the session came back from a restart, so the hub may hold ticks after `handledSeq`
   * that it never handled (and the client may have seen some of them): a replay asks the hub.
   */
  | { state: "offline"; fromSeq: number; sinceMs: number; gap: SeqRange | null; behind: boolean };

/** Everything a session knows about its client; stored whole in the object's KV storage. */
export interface SessionRecord {
  clientId: string;
  /** The hub history the seq numbers below belong to. */
  epoch: string;
  /** Currencies of the last socket: the default for a reconnect that names none. */
  currencies: Currency[];
  status: StatusMessage;
  /** On the hub's subscriber list: a known client's reconnect does not call the hub. */
  onHub: boolean;
  /**
   * Every tick up to here was sent to a socket, buffered, or counted in a gap. While live it moves
   * in memory and in the sockets' attachments, and reaches storage only at checkpoints (connect,
   * status and currency changes, the lease alarm), so after a restart the stored value is a lower bound.
   */
  handledSeq: number;
  lastTick: Tick | null;
  link: Link;
  /**
   * The epoch the client last knew, when the hub's history changed while it was away: its next
   * socket is told with a `reset` frame. Null when the client knows the current epoch.
   */
  resetFrom: string | null;
}

/** What a live socket's attachment remembers of the session, so a hibernated object can rebuild it. */
export interface LiveMark {
  handledSeq: number;
  lastTick: Tick | null;
}

export function mergeGap(known: SeqRange | null, more: SeqRange | null): SeqRange | null {
  if (!more) return known;
  if (!known) return more;
  return { fromSeq: Math.min(known.fromSeq, more.fromSeq), toSeq: Math.max(known.toSeq, more.toSeq) };
}

/** The last socket is gone: ticks after the last handled one are buffered from now on. */
export function goOffline(record: SessionRecord, nowMs: number, behind = false): SessionRecord {
  if (record.link.state === "offline") return record;
  return { ...record, link: { state: "offline", fromSeq: record.handledSeq + 1, sinceMs: nowMs, gap: null, behind } };
}

/**
 * The record as the session finds it when it wakes. Live sockets' attachments hold the newest
 * mark (they survive hibernation). A record that says live with no live socket left means the
 * runtime restarted (a deploy, a crash): no close event came, the attachments are gone, and the
 * stored mark may be behind what the client saw. The session goes offline from that mark, and
 * a reconnect replays from it: at least once, never a hole.
 */
export function onWake(
  stored: SessionRecord,
  sockets: { live: number; marks: readonly LiveMark[] },
  nowMs: number,
): SessionRecord {
  let record = stored;
  for (const mark of sockets.marks) {
    if (mark.handledSeq > record.handledSeq)
      record = { ...record, handledSeq: mark.handledSeq, lastTick: mark.lastTick };
  }
  if (record.link.state === "live" && sockets.live === 0) {
    // A mark from an attachment is exact (hibernation, or a socket closing); none means a restart.
    return goOffline(record, nowMs, sockets.marks.length === 0);
  }
  return record;
}

/** Where a tick goes, and the record after it; `drop` means the session has handled it already. */
export type TickRoute = { route: "drop" } | { route: "sockets" | "buffer"; record: SessionRecord };

export function routeTick(record: SessionRecord, tick: Tick): TickRoute {
  if (tick.seq <= record.handledSeq) return { route: "drop" };
  const next = { ...record, handledSeq: tick.seq, lastTick: tick };
  return { route: record.link.state === "live" ? "sockets" : "buffer", record: next };
}

/** Ticks the buffer had to drop (MAX_BUFFER) or the hub no longer had: told to the client as a gap. */
export function recordGap(record: SessionRecord, gap: SeqRange | null): SessionRecord {
  if (!gap || record.link.state !== "offline") return record;
  return { ...record, link: { ...record.link, gap: mergeGap(record.link.gap, gap) } };
}

/** A catch-up from the hub filled everything up to `handledSeq`: a reconnect need not ask again. */
export function caughtUp(record: SessionRecord): SessionRecord {
  if (record.link.state !== "offline" || !record.link.behind) return record;
  return { ...record, link: { ...record.link, behind: false } };
}

/**
 * A socket had its welcome and replay. Only if it is still open does the session go live (and the
 * buffer it was sent may go); a socket that closed during its replay leaves the session offline
 * with its buffer intact, so nothing it could not receive is lost.
 */
export function afterReplay(record: SessionRecord, socketOpen: boolean, replayedUpTo: Tick | null): SessionRecord {
  // Not even the mark moves: ticks past it that the hub replayed are not in the buffer.
  if (!socketOpen) return record;
  const advanced =
    replayedUpTo && replayedUpTo.seq > record.handledSeq
      ? { ...record, handledSeq: replayedUpTo.seq, lastTick: replayedUpTo }
      : record;
  return { ...advanced, link: { state: "live" }, onHub: true, resetFrom: null };
}

/**
 * The hub's history is another one than the session's seq numbers belong to (wiped, or restarted
 * for another source set): nothing the session holds can be compared with the new seqs.
 */
export function changeEpoch(record: SessionRecord, epoch: string, firstSeq: number): SessionRecord {
  const handledSeq = firstSeq - 1;
  if (record.link.state === "live") return { ...record, epoch, handledSeq, lastTick: null };
  const link: Link = { ...record.link, fromSeq: firstSeq, gap: null, behind: false };
  return { ...record, epoch, handledSeq, lastTick: null, link, resetFrom: record.resetFrom ?? record.epoch };
}

/**
 * How often a connected session's lease alarm fires (and checkpoints its mark): CLIENT_TTL_S, but
 * not more than once a minute. It bounds how late a session notices sockets a restart took without
 * a close event (a tick usually wakes it sooner) and how far back its replay after a restart goes;
 * more often would be a durable write per client that buys nothing.
 */
export const MIN_LEASE_MS = 60_000;

export const leaseMs = (ttlMs: number): number => Math.max(ttlMs, MIN_LEASE_MS);

export type AlarmDecision =
  /** A socket is open: renew the lease and checkpoint the live mark. */
  | { action: "renew"; nextAtMs: number }
  /** Offline but not yet for CLIENT_TTL_S. */
  | { action: "wait"; nextAtMs: number }
  | { action: "purge" };

/**
 * The purge alarm doubles as a lease: it is always set, so a session that loses its sockets without
 * a close event (a restart) still finds out, goes offline, and is purged CLIENT_TTL_S later.
 */
export function onAlarm(
  record: SessionRecord | null,
  openSockets: number,
  nowMs: number,
  ttlMs: number,
): AlarmDecision {
  if (openSockets > 0) return { action: "renew", nextAtMs: nowMs + leaseMs(ttlMs) };
  if (!record) return { action: "purge" };
  // Live without a socket only until onWake has seen it: give the client its full TTL from now.
  const dueMs = (record.link.state === "offline" ? record.link.sinceMs : nowMs) + ttlMs;
  return dueMs > nowMs ? { action: "wait", nextAtMs: dueMs } : { action: "purge" };
}

/** The epoch of a record stored before epochs existed: adopted from the hub, never a reset. */
export const UNKNOWN_EPOCH = "";

/** A stored record, including one stored by the previous version of this object (before `link`). */
export function readRecord(raw: unknown, nowMs: number): SessionRecord | null {
  if (typeof raw !== "object" || raw === null) return null;
  const r = raw as Partial<SessionRecord> & LegacyRecord;
  if (r.link) return r as SessionRecord;
  if (typeof r.clientId !== "string" || typeof r.deliveredSeq !== "number") return null;
  return {
    clientId: r.clientId,
    epoch: r.epoch ?? UNKNOWN_EPOCH,
    currencies: r.currencies ?? [],
    status: r.status ?? { type: "status", state: "live" },
    onHub: r.onHub ?? false,
    handledSeq: r.deliveredSeq,
    lastTick: r.lastTick ?? null,
    link:
      r.offlineFromSeq == null
        ? { state: "live" }
        : {
            state: "offline",
            fromSeq: r.offlineFromSeq,
            sinceMs: r.offlineFromMs ?? nowMs,
            gap: r.bufferGap ?? null,
            behind: false,
          },
    resetFrom: null,
  };
}

interface LegacyRecord {
  deliveredSeq?: number;
  offlineFromSeq?: number | null;
  offlineFromMs?: number | null;
  bufferGap?: SeqRange | null;
}

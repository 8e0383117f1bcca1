import type { FeedSnapshot } from "../contracts";
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
   * No socket: every tick from `fromSeq` to the record's `handledSeq` is in the buffer or in `gaps`.
   * `behind`: the session came back from a restart (or its shard said the head is past its mark), so
   * the shard may hold ticks after `handledSeq` that it never handled (and the client may have seen
   * some of them): a replay reads the shard's history.
   */
  | { state: "offline"; fromSeq: number; sinceMs: number; gaps: SeqRange[]; behind: boolean };

/** Everything a session knows about its client; stored whole in the object's KV storage. */
export interface SessionRecord {
  clientId: string;
  /** The history the seq numbers below belong to. */
  epoch: string;
  /** Currencies of the last socket: the default for a reconnect that names none. */
  currencies: Currency[];
  status: StatusMessage;
  /** When the hub set that status: an older one arriving late is ignored. */
  statusAtMs: number;
  /** The shard of the fan-out tree the session is registered with; null: it must register (again). */
  shard: string | null;
  /**
   * Every tick up to here was sent to a socket, buffered, or counted in a gap. While live it moves
   * in memory and in the sockets' attachments, and reaches storage only at checkpoints (connect,
   * status and currency changes, the lease alarm), so after a restart the stored value is a lower bound.
   */
  handledSeq: number;
  lastTick: Tick | null;
  link: Link;
  /**
   * The epoch the client last knew, when the history changed while it was away: its next socket is
   * told with a `reset` frame. Null when the client knows the current epoch.
   */
  resetFrom: string | null;
}

/** What a live socket's attachment remembers of the session, so a hibernated object can rebuild it. */
export interface LiveMark {
  handledSeq: number;
  lastTick: Tick | null;
}

/**
 * Adds a range of ticks that will never come to a list kept in seq order. Only ranges that overlap or
 * touch merge: two gaps with a buffered tick between them stay two, so a client that learns of the
 * first still expects the tick after it.
 */
export function addGap(gaps: readonly SeqRange[], gap: SeqRange): SeqRange[] {
  const out: SeqRange[] = [];
  let merged = { ...gap };
  for (const g of gaps) {
    if (g.toSeq + 1 < merged.fromSeq || merged.toSeq + 1 < g.fromSeq) out.push(g);
    else merged = { fromSeq: Math.min(g.fromSeq, merged.fromSeq), toSeq: Math.max(g.toSeq, merged.toSeq) };
  }
  out.push(merged);
  return out.sort((a, b) => a.fromSeq - b.fromSeq);
}

/** The last socket is gone: ticks after the last handled one are buffered from now on. */
export function goOffline(record: SessionRecord, nowMs: number, behind = false): SessionRecord {
  if (record.link.state === "offline") return record;
  return { ...record, link: { state: "offline", fromSeq: record.handledSeq + 1, sinceMs: nowMs, gaps: [], behind } };
}

/**
 * The record as the session finds it when it wakes. Live sockets' attachments hold the newest
 * mark (they survive hibernation). A record that says live with no live socket left means the
 * runtime restarted (a deploy, a crash): no close event came, the attachments are gone, and the
 * stored mark may be behind what the client saw. The session goes offline from that mark, and
 * a reconnect replays from it: at least once, never a hole.
 */
export function recordAfterWake(
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

/**
 * Offline and behind (back from a restart): the session's next socket replays from its shard's history,
 * never from its buffer (replay.ts), and that history holds every tick the session misses meanwhile. So
 * such a session keeps none of them: buffering them would cost a write per tick that no replay reads,
 * and, in a deploy's reconnect storm, the shard a history read and a resend per session.
 */
export function replaysFromShard(record: Pick<SessionRecord, "link">): boolean {
  return record.link.state === "offline" && record.link.behind;
}

/**
 * Whether the offline buffer may hold ticks: only what was handled while offline went there. A session
 * that has handled nothing since it went offline (a restart's reconnect, most often) has nothing to
 * clear, and is spared asking its storage.
 */
export function bufferMayHoldTicks(record: Pick<SessionRecord, "link" | "handledSeq">): boolean {
  return record.link.state === "offline" && record.handledSeq >= record.link.fromSeq;
}

/** Where a tick goes, and the record after it; `drop` means the session has handled it already. */
export type TickRoute = { route: "drop" } | { route: "sockets" | "buffer"; record: SessionRecord };

export function routeTick(record: SessionRecord, tick: Tick): TickRoute {
  if (tick.seq <= record.handledSeq) return { route: "drop" };
  const next = { ...record, handledSeq: tick.seq, lastTick: tick };
  return { route: record.link.state === "live" ? "sockets" : "buffer", record: next };
}

/** Ticks the buffer had to drop (MAX_BUFFER) or the shard no longer had: told to the client as a gap. */
export function recordGap(record: SessionRecord, gap: SeqRange | null): SessionRecord {
  if (!gap || record.link.state !== "offline") return record;
  return { ...record, link: { ...record.link, gaps: addGap(record.link.gaps, gap) } };
}

/** A catch-up from the shard filled everything up to `handledSeq`: a reconnect need not ask again. */
export function caughtUp(record: SessionRecord): SessionRecord {
  if (record.link.state !== "offline" || !record.link.behind) return record;
  return { ...record, link: { ...record.link, behind: false } };
}

/** What a client resuming by `last_seq` holds already: every tick up to `upToSeq`, and `latest` among them. */
export interface Held {
  upToSeq: number;
  /** The newest tick up to `upToSeq` that the shard answered with, if it has one. */
  latest: Tick | null;
}

/** The later of two ticks of one history. */
export function newerTick(a: Tick | null, b: Tick | null): Tick | null {
  if (!a || !b) return a ?? b;
  return a.seq >= b.seq ? a : b;
}

/**
 * A socket had its welcome and replay. Only if it is still open does the session go live (and the
 * buffer it was sent may go); a socket that closed during its replay leaves the session offline
 * with its buffer intact, so nothing it could not receive is lost. The session then stands at the
 * newest tick replayed, or at what the client said it `held`, if that is later than its own mark.
 */
export function afterReplay(
  record: SessionRecord,
  socketOpen: boolean,
  replayedUpTo: Tick | null,
  held: Held | null = null,
): SessionRecord {
  // Not even the mark moves: ticks past it that the shard replayed are not in the buffer.
  if (!socketOpen) return record;
  let advanced = record;
  if (held && held.upToSeq > advanced.handledSeq) {
    advanced = { ...advanced, handledSeq: held.upToSeq, lastTick: newerTick(held.latest, advanced.lastTick) };
  }
  if (replayedUpTo && replayedUpTo.seq > advanced.handledSeq) {
    advanced = { ...advanced, handledSeq: replayedUpTo.seq, lastTick: replayedUpTo };
  }
  return { ...advanced, link: { state: "live" }, resetFrom: null };
}

/**
 * The history is another one than the session's seq numbers belong to (wiped, or restarted for
 * another source set): nothing the session holds can be compared with the new seqs. Whoever starts
 * the epoch has handled everything before its first seq.
 */
export function changeEpoch(record: SessionRecord, epoch: string, firstSeq: number): SessionRecord {
  const handledSeq = firstSeq - 1;
  if (record.link.state === "live") return { ...record, epoch, handledSeq, lastTick: null };
  const link: Link = { ...record.link, fromSeq: firstSeq, gaps: [], behind: false };
  return { ...record, epoch, handledSeq, lastTick: null, link, resetFrom: record.resetFrom ?? record.epoch };
}

/** A new client's record: it starts where its shard's history stands, with nothing to replay. */
export function newRecord(
  clientId: string,
  currencies: Currency[],
  shard: string,
  snapshot: FeedSnapshot,
): SessionRecord {
  return {
    clientId,
    epoch: snapshot.epoch.id,
    currencies,
    status: snapshot.status,
    statusAtMs: snapshot.statusAtMs,
    shard,
    handledSeq: snapshot.headSeq,
    lastTick: snapshot.latest,
    // A socket lost before it is live makes it offline (see the end of ClientSession.startSocket).
    link: { state: "live" },
    resetFrom: null,
  };
}

/**
 * A known session registered again (after a restart, a silent spell, or at its lease) and learned
 * where its shard stands: another epoch starts over; a head past its mark means ticks it never
 * handled (its replay then reads the shard); a newer status replaces its own.
 */
export function afterRegistration(record: SessionRecord, shard: string, snapshot: FeedSnapshot): SessionRecord {
  let next: SessionRecord = { ...record, shard };
  if (next.epoch === UNKNOWN_EPOCH) next = { ...next, epoch: snapshot.epoch.id };
  if (next.epoch !== snapshot.epoch.id) next = changeEpoch(next, snapshot.epoch.id, snapshot.epoch.startSeq);
  if (snapshot.statusAtMs >= next.statusAtMs)
    next = { ...next, status: snapshot.status, statusAtMs: snapshot.statusAtMs };
  if (next.link.state === "offline" && snapshot.headSeq > next.handledSeq) {
    next = { ...next, link: { ...next.link, behind: true } };
  }
  return { ...next, lastTick: next.lastTick ?? snapshot.latest };
}

/**
 * How often a connected session's lease alarm fires (and checkpoints its mark, and registers with
 * its shard again): CLIENT_TTL_S, but not more than once a minute. It bounds how late a session
 * notices sockets a restart took without a close event (a tick usually wakes it sooner), how far
 * back its replay after a restart goes, and how long a connected client stays silent after its
 * shard lost its storage.
 */
export const MIN_LEASE_MS = 60_000;

export const leaseMs = (ttlMs: number): number => Math.max(ttlMs, MIN_LEASE_MS);

export type AlarmDecision =
  /** A socket is open: renew the lease, register again and checkpoint the live mark. */
  | { action: "renew"; nextAtMs: number }
  /** Offline but not yet for CLIENT_TTL_S. */
  | { action: "wait"; nextAtMs: number }
  | { action: "purge" };

/**
 * The purge alarm doubles as a lease: it is always set, so a session that loses its sockets without
 * a close event (a restart) still finds out, goes offline, and is purged CLIENT_TTL_S later.
 */
export function alarmDecision(
  record: SessionRecord | null,
  openSockets: number,
  nowMs: number,
  ttlMs: number,
): AlarmDecision {
  if (openSockets > 0) return { action: "renew", nextAtMs: nowMs + leaseMs(ttlMs) };
  if (!record) return { action: "purge" };
  // Live without a socket only until recordAfterWake has seen it: give the client its full TTL from now.
  const dueMs = (record.link.state === "offline" ? record.link.sinceMs : nowMs) + ttlMs;
  return dueMs > nowMs ? { action: "wait", nextAtMs: dueMs } : { action: "purge" };
}

/** The epoch of a record stored before epochs existed: adopted from the shard, never a reset. */
export const UNKNOWN_EPOCH = "";

/** A stored record, including one stored by an older version of this object. */
export function readRecord(raw: unknown, nowMs: number): SessionRecord | null {
  if (typeof raw !== "object" || raw === null) return null;
  const r = raw as Partial<SessionRecord> & LegacyRecord;
  if (r.link) {
    const link = r.link as Link & { gap?: SeqRange | null };
    const upgraded: Link =
      link.state === "offline" && !Array.isArray(link.gaps)
        ? {
            state: "offline",
            fromSeq: link.fromSeq,
            sinceMs: link.sinceMs,
            gaps: link.gap ? [link.gap] : [],
            behind: link.behind,
          }
        : link;
    // Registered with the hub's subscriber list before the fan-out tree: it registers with a shard.
    return { ...(r as SessionRecord), link: upgraded, shard: r.shard ?? null, statusAtMs: r.statusAtMs ?? 0 };
  }
  if (typeof r.clientId !== "string" || typeof r.deliveredSeq !== "number") return null;
  return {
    clientId: r.clientId,
    epoch: r.epoch ?? UNKNOWN_EPOCH,
    currencies: r.currencies ?? [],
    status: r.status ?? { type: "status", state: "live" },
    statusAtMs: 0,
    shard: null,
    handledSeq: r.deliveredSeq,
    lastTick: r.lastTick ?? null,
    link:
      r.offlineFromSeq == null
        ? { state: "live" }
        : {
            state: "offline",
            fromSeq: r.offlineFromSeq,
            sinceMs: r.offlineFromMs ?? nowMs,
            gaps: r.bufferGap ? [r.bufferGap] : [],
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

import type { CopyPage, Epoch, FanoutEvent, FeedSnapshot, ReplayQuery } from "../contracts";
import type { StatusMessage, Tick } from "../protocol";
import { TickTable, type TickPage } from "../storage/tick-table";

/** What a shard knows of the feed besides its ticks; stored whole in its KV storage. */
export interface CopyState {
  epoch: Epoch;
  /** Every tick of the epoch up to here is in the table, or was older than the table's first. */
  headSeq: number;
  status: StatusMessage;
  statusAtMs: number;
}

/** Where a tick or a beat stands against a copy of the history (a shard's, or a session's mark). */
export type Placement =
  /** The next one (or a beat at the head): take it. */
  | { place: "next" }
  /** Already held (a repeat, or a beat behind the head): nothing to take or pass on. */
  | { place: "held" }
  /** After a hole that the event's backlog fills. */
  | { place: "fill" }
  /** After a hole: ask the sender for the history after `missingAfter`. */
  | { place: "hole"; missingAfter: number };

/**
 * Places an event against a copy that holds every tick of `epoch` up to `headSeq`. An event of another
 * epoch is placed against that epoch's start: whoever follows it has handled everything before.
 */
export function placeEvent(copy: { epoch: Epoch; headSeq: number }, event: FanoutEvent): Placement {
  if (event.kind === "status") return { place: "next" };
  const head = event.epoch.id === copy.epoch.id ? copy.headSeq : event.epoch.startSeq - 1;
  const isTick = event.kind === "tick";
  const seq = isTick ? event.tick.seq : event.headSeq;
  if (isTick ? seq <= head : seq < head) return { place: "held" };
  if (seq === (isTick ? head + 1 : head)) return { place: "next" };
  return event.backlog ? { place: "fill" } : { place: "hole", missingAfter: head };
}

/**
 * A shard's copy of the hub's history: the same table and queries as the hub's, so a replay, a catch-up
 * or a backlog read from a shard answers exactly what the hub would. The table is kept contiguous: a
 * backlog that cannot close a hole starts it over from what it brings (older seqs then come as a gap).
 */
export class HistoryCopy {
  readonly ticks: TickTable;
  /**
   * What every registration reads, kept between events: the state, the newest tick, and the last replay
   * page asked (a reconnect storm asks the same one a thousand times). Dropped at every write.
   */
  private stateKept: CopyState | null | undefined;
  private latestKept: Tick | null | undefined;
  private pageKept: { key: string; page: TickPage } | null = null;

  constructor(
    sql: SqlStorage,
    private readonly kv: SyncKvStorage,
  ) {
    this.ticks = new TickTable(sql, "ticks");
  }

  get state(): CopyState | null {
    this.stateKept ??= this.kv.get<CopyState>("copy") ?? null;
    return this.stateKept;
  }

  private set state(next: CopyState) {
    this.kv.put("copy", next);
    this.stateKept = next;
  }

  /** Forgets what is kept in memory: after a write to the table, or a transaction that rolled back. */
  reload(): void {
    this.stateKept = undefined;
    this.latestKept = undefined;
    this.pageKept = null;
  }

  snapshot(): FeedSnapshot | null {
    const state = this.state;
    if (!state) return null;
    if (this.latestKept === undefined) this.latestKept = this.ticks.latest();
    return { ...state, latest: this.latestKept };
  }

  /** The ticks after a seq, or since a time, up to `limit` (a replay, or a catch-up at registration). */
  read(query: ReplayQuery, limit: number): TickPage {
    const key = "afterSeq" in query ? `seq:${query.afterSeq}:${limit}` : `ms:${query.sinceMs}:${limit}`;
    if (this.pageKept?.key === key) return this.pageKept.page;
    const page = "afterSeq" in query ? this.ticks.after(query.afterSeq, limit) : this.ticks.since(query.sinceMs, limit);
    this.pageKept = { key, page };
    return page;
  }

  /** Starts the copy from a snapshot (the first fill, or another epoch): nothing older is held. */
  /**
   * Fills the copy from another one, page by page (`page(afterSeq)`, oldest first). The copy counts as
   * held only once the last page is in: a fill cut short (a restart) starts over.
   */
  async fillFrom(page: (afterSeq: number) => Promise<CopyPage>, pageSize: number): Promise<void> {
    this.clear();
    let after = 0;
    let from: CopyPage["from"] | null = null;
    for (;;) {
      const next = await page(after);
      if (from && next.from.epoch.id !== from.epoch.id) {
        // The source started another epoch meanwhile: start over from it.
        this.ticks.clear();
        after = 0;
        from = null;
        continue;
      }
      from = next.from;
      for (const tick of next.ticks) this.ticks.insert(tick);
      if (next.ticks.length < pageSize) break;
      after = next.ticks.at(-1)!.seq;
    }
    const { epoch, headSeq, status, statusAtMs } = from;
    this.reload();
    this.state = { epoch, headSeq: Math.max(headSeq, this.ticks.latest()?.seq ?? 0), status, statusAtMs };
  }

  /**
   * Takes an event (placed "next", "fill" or "new-epoch"), keeping `retentionMs` of history. Returns
   * false for a status older than the one held (it is not passed on).
   */
  take(event: FanoutEvent, nowMs: number, retentionMs: number): boolean {
    const state = this.state;
    if (!state) return false;
    this.reload();
    if (event.kind === "status") {
      if (event.atMs < state.statusAtMs) return false;
      this.state = { ...state, status: event.status, statusAtMs: event.atMs };
      return true;
    }
    let headSeq = state.headSeq;
    if (event.epoch.id !== state.epoch.id) {
      this.ticks.clear();
      headSeq = event.epoch.startSeq - 1;
    }
    if (event.backlog) headSeq = this.fill(event.backlog, headSeq);
    if (event.kind === "tick") {
      if (event.tick.seq > headSeq + 1) this.ticks.clear(); // a hole nothing could close
      this.ticks.insert(event.tick);
      headSeq = Math.max(headSeq, event.tick.seq);
    } else {
      headSeq = Math.max(headSeq, event.headSeq);
    }
    this.ticks.deleteOlderThan(nowMs - retentionMs);
    this.state = { ...state, epoch: event.epoch, headSeq };
    return true;
  }

  private fill(backlog: TickPage, headSeq: number): number {
    const fresh = backlog.ticks.filter((t) => t.seq > headSeq);
    if (backlog.gap && backlog.gap.toSeq > headSeq) this.ticks.clear();
    for (const tick of fresh) this.ticks.insert(tick);
    return Math.max(headSeq, backlog.gap?.toSeq ?? headSeq, fresh.at(-1)?.seq ?? headSeq);
  }

  clear(): void {
    this.ticks.clear();
    this.kv.delete("copy");
    this.reload();
  }
}

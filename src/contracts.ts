/**
 * What the objects offer each other over RPC. Each side imports these interfaces, never the other's
 * class: the hub knows the tree only as `ShardApi`, a shard knows sessions only as `SessionApi` and the
 * hub as `HubApi`, a session knows its shard as `ShardApi`, and the Worker's HTTP side knows the hub as
 * `HubHttpApi`. docs/design/fanout.md draws who calls whom.
 */
import type { Currency, FanoutSummary, HubHealth, PriceStats, StatusMessage, Tick } from "./protocol";
import type { CandlePage, PricePage, TickPage } from "./storage/tick-table";

/**
 * A history of ticks: `id` names it (clients echo it back as `epoch=`), and seq numbers are only
 * comparable within one. Its first tick has seq `startSeq`: whoever starts following an epoch has
 * handled everything before that.
 */
export interface Epoch {
  id: string;
  startSeq: number;
}

/** What a newcomer to the feed needs: which history, where it stands, the latest price and the status. */
export interface FeedSnapshot {
  epoch: Epoch;
  /** The last seq published in this epoch (startSeq - 1 when none yet); the latest tick may be older. */
  headSeq: number;
  latest: Tick | null;
  status: StatusMessage;
  /** When the hub set this status: of two statuses, the later one wins whatever order they arrive in. */
  statusAtMs: number;
}

/** A page of a history for copying it, oldest first, with where that history stands. */
export interface CopyPage {
  from: Omit<FeedSnapshot, "latest">;
  ticks: Tick[];
}

/** What flows down the tree, from the hub through the shards to the sessions. */
export type FanoutEvent =
  /** A new price. `backlog`: the history after the seq a receiver said it is missing (ReceiveResult.missingAfter). */
  | { kind: "tick"; tick: Tick; epoch: Epoch; backlog?: TickPage }
  | { kind: "status"; status: StatusMessage; atMs: number }
  /**
   * A poll without a new price: the tree learns the hub is alive, and where the head is. Shards get one
   * every poll; a leaf passes one on to its sessions only when they have heard nothing for a while.
   */
  | { kind: "beat"; epoch: Epoch; headSeq: number; atMs: number; backlog?: TickPage };

/** A receiver's answer to an event. */
export interface ReceiveResult {
  /** False: the receiver no longer exists (a session purged): its sender forgets it. */
  subscribed: boolean;
  /**
   * The receiver has a hole before this event (a lost delivery, a restart, a wipe) and did not handle
   * it: it wants the same event again with a `backlog` of the history after this seq. A sender reads
   * that history once for every receiver of its batch, from its own copy.
   */
  missingAfter?: number;
  /**
   * The session keeps nothing until it registers again (back from a restart with no socket: its next
   * socket replays from the shard's history). Its shard sends it no more events until then.
   */
  parked?: true;
}

/** How one event went through a subtree of the fan-out (the hub shows the root's in /health). */
export type FanoutReport = FanoutSummary;

/** What a shard answers its parent (or the hub) for an event. */
export interface ShardAck extends ReceiveResult {
  /** Absent when the event was not handled (missingAfter). */
  report?: FanoutReport;
}

/** How a session reached the shard it registers with. */
export type RegisterVia =
  /** The shard its record names (it was registered there): an empty shard takes it, and heals. */
  | "record"
  /** A redirect from this shard's parent, which lists this shard as its child: an empty shard takes it. */
  | "parent"
  /** A guess at the depth (the Worker's hint): an empty shard says it does not exist. */
  | "guess";

/** Which ticks a replay asks a history for: after a seq, or since a time. */
export type ReplayQuery = { afterSeq: number } | { sinceMs: number };

export interface RegisterRequest {
  via: RegisterVia;
  /** A replay or a catch-up the session needs: read from the shard's history with the answer. */
  replay?: ReplayQuery;
  /** The most ticks of it (MAX_REPLAY); what is older comes as the page's gap. */
  replayLimit?: number;
}

export type RegisterAnswer =
  | { kind: "registered"; shard: string; snapshot: FeedSnapshot; replay?: TickPage }
  /** This shard has split: register with the child on the client's path. */
  | { kind: "moved"; to: string }
  /** No such shard (an empty one reached by a guess): try its parent. */
  | { kind: "absent" };

/** What the shards of the fan-out tree offer their parent, their children and their sessions. */
export interface ShardApi extends Rpc.DurableObjectBranded {
  /** An event from the parent (the hub, for the root): kept in the shard's history, passed down. */
  deliver(event: FanoutEvent): Promise<ShardAck>;
  register(clientId: string, request: RegisterRequest): Promise<RegisterAnswer>;
  /**
   * A purged session leaves. A split shard that no longer lists it names the child it was handed down
   * to (`moved`): the session asks there too.
   */
  unregister(clientId: string): Promise<{ known: boolean; moved?: string }>;
  /** A child announces itself: the parent forwards to it from now on (and heals after a wipe). */
  adoptChild(digit: string): Promise<void>;
  /** A splitting parent hands over members that hash to this child. */
  adoptMembers(clientIds: readonly string[]): Promise<void>;
  /** A replay from the shard's copy of the history: at most `limit` ticks, the newest kept, the rest a gap. */
  replay(query: ReplayQuery, limit: number): Promise<TickPage>;
  /** A child fills its copy from its parent's, page by page. */
  copyPage(afterSeq: number, limit: number): Promise<CopyPage>;
}

/** What the hub offers the root shard (and the cron trigger): the tree's one door to it. */
export interface HubApi extends Rpc.DurableObjectBranded {
  /** The root fills its copy of the history from the hub's, page by page. */
  copyPage(afterSeq: number, limit: number): CopyPage;
  /** Re-arms the poll loop if it stopped; true when it had to. */
  ensureRunning(): Promise<boolean>;
}

/** What the Worker's HTTP side may ask the hub, each behind the edge cache. */
export interface HubHttpApi extends Rpc.DurableObjectBranded {
  health(): Promise<HubHealth>;
  /** The latest tick, the feed's status and every currency's figures over the 24 hours up to that tick. */
  snapshot(): PriceSnapshot;
  historyPage(currency: Currency, fromMs: number, toMs: number, afterSeq: number, limit: number): PricePage;
  candlesPage(currency: Currency, bucketS: number, fromMs: number, toMs: number, limit: number): CandlePage;
}

/** What `GET /api/price` is answered from: one hub call per interval and location, for every currency set. */
export interface PriceSnapshot {
  latest: Tick | null;
  status: StatusMessage;
  stats24h: Partial<Record<Currency, PriceStats>>;
}

/** What a session offers the shard that serves it. */
export interface SessionApi extends Rpc.DurableObjectBranded {
  /** The event, as JSON text from its shard (src/relay/event-wire.ts), or as an object. */
  receive(event: FanoutEvent | string): Promise<ReceiveResult>;
}

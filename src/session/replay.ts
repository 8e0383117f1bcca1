import type { FeedSnapshot, ReplayQuery } from "../contracts";
import type { PricefeedQuery } from "../protocol";
import { replaysFromShard, type Held, type SessionRecord } from "./session-state";

export type ReplayPlan = { source: "none" } | ({ source: "buffer" | "shard" } & ReplayQuery);

/**
 * Chooses where a new socket's replay comes from: the session's own buffer when it covers the
 * asked range (it holds every tick since the last socket closed), its shard's copy of the history
 * otherwise, and always the shard for a session that is `behind` (back from a restart, whose buffer
 * may lack the ticks the client was sent just before it). `last_seq` is exact and wins over
 * `start_timedate`; a plain reconnect replays from where the session went offline.
 */
export function planReplay(
  query: Pick<PricefeedQuery, "lastSeq" | "startTimedate">,
  record: Pick<SessionRecord, "link"> | null,
): ReplayPlan {
  const offline = record?.link.state === "offline" ? record.link : null;
  const bufferUsable = offline !== null && !replaysFromShard({ link: offline });
  if (query.lastSeq !== null) {
    const covered = bufferUsable && query.lastSeq + 1 >= offline.fromSeq;
    return { source: covered ? "buffer" : "shard", afterSeq: query.lastSeq };
  }
  if (query.startTimedate !== null) {
    const sinceMs = query.startTimedate * 1000;
    const covered = bufferUsable && offline.sinceMs <= sinceMs;
    return { source: covered ? "buffer" : "shard", sinceMs };
  }
  if (offline) return { source: bufferUsable ? "buffer" : "shard", afterSeq: offline.fromSeq - 1 };
  return { source: "none" };
}

export interface ResumePlan {
  /** The epoch the client's seq numbers belong to, when it is not the session's: told with a `reset` frame. */
  resetFrom: string | null;
  replay: ReplayPlan;
}

/**
 * A `last_seq` from another history (the client says so with `epoch=`, or the history changed
 * while it was away) is never replayed by: the client is told, and starts over from the latest price.
 */
export function planResume(
  query: Pick<PricefeedQuery, "lastSeq" | "startTimedate" | "epoch">,
  record: Pick<SessionRecord, "link" | "epoch" | "resetFrom">,
): ResumePlan {
  const resetFrom = query.epoch !== null ? (query.epoch === record.epoch ? null : query.epoch) : record.resetFrom;
  if (resetFrom !== null && query.lastSeq !== null) return { resetFrom, replay: { source: "none" } };
  return { resetFrom, replay: planReplay(query, record) };
}

/** What a plan asks the shard for, if anything: asked with a registration, it costs no call of its own. */
export function shardQuery(plan: ReplayPlan): ReplayQuery | undefined {
  if (plan.source !== "shard") return undefined;
  return "afterSeq" in plan ? { afterSeq: plan.afterSeq } : { sinceMs: plan.sinceMs };
}

export const sameQuery = (a: ReplayQuery | undefined, b: ReplayQuery | undefined): boolean =>
  a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b);

/**
 * A client resuming by `last_seq` in the session's epoch holds every tick up to it: the session stands
 * there too once the replay is sent, whatever its last durable mark (a restart leaves that behind), so
 * the ticks in between are not sent again as live ones. Never past the head its shard registered it
 * with: a last_seq from beyond the head does not make the session skip ticks still to come.
 */
export function heldByClient(
  query: Pick<PricefeedQuery, "lastSeq">,
  plan: ResumePlan,
  registered: FeedSnapshot | null,
  epoch: string,
): Held | null {
  if (query.lastSeq === null || plan.resetFrom !== null || !registered || registered.epoch.id !== epoch) return null;
  const upToSeq = Math.min(query.lastSeq, registered.headSeq);
  const latest = registered.latest && registered.latest.seq <= upToSeq ? registered.latest : null;
  return { upToSeq, latest };
}

import type { PricefeedQuery } from "../protocol";

/** What a session remembers about the ticks it has handled. */
export interface DeliveryMark {
  /** Highest seq sent to the sockets or buffered. */
  deliveredSeq: number;
  /** First seq buffered since the last socket closed; null while a socket is open. */
  offlineFromSeq: number | null;
  /** When the last socket closed (ms). */
  offlineFromMs: number | null;
}

export type ReplayPlan =
  | { source: "none" }
  | { source: "buffer" | "hub"; afterSeq: number }
  | { source: "buffer" | "hub"; sinceMs: number };

/**
 * Chooses where a new socket's replay comes from. The session's own buffer when it covers
 * the asked range (it holds every tick since the last socket closed), the hub's history otherwise.
 * `last_seq` is exact and wins over `start_timedate`; a plain reconnect replays the buffer.
 */
export function planReplay(
  query: Pick<PricefeedQuery, "lastSeq" | "startTimedate">,
  mark: DeliveryMark | null,
): ReplayPlan {
  const offlineSeq = mark?.offlineFromSeq ?? null;
  const offlineMs = mark?.offlineFromMs ?? null;
  if (query.lastSeq !== null) {
    const covered = offlineSeq !== null && query.lastSeq + 1 >= offlineSeq;
    return { source: covered ? "buffer" : "hub", afterSeq: query.lastSeq };
  }
  if (query.startTimedate !== null) {
    const sinceMs = query.startTimedate * 1000;
    const covered = offlineMs !== null && offlineMs <= sinceMs;
    return { source: covered ? "buffer" : "hub", sinceMs };
  }
  if (offlineSeq !== null) return { source: "buffer", afterSeq: offlineSeq - 1 };
  return { source: "none" };
}

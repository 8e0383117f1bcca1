import { MAX_DEPTH } from "./topology";

/** Each level above a leaf waits this much longer for its children than they wait for theirs. */
export const LEVEL_MARGIN_MS = 250;

/**
 * How long a shard at `depth` waits for its children's reports: a leaf waits `timeoutMs` for its sessions,
 * and every level above waits a margin longer, so a parent never gives up on a child that is still
 * within its own deadline. The hub (depth -1) waits longest of all.
 */
export function childrenDeadlineMs(timeoutMs: number, depth: number): number {
  return timeoutMs + (MAX_DEPTH - depth) * LEVEL_MARGIN_MS;
}

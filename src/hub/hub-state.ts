import type { LastFanout } from "../protocol";
import type { FeedCondition } from "./feed-status";

/** What the hub remembers between polls, besides its history. */
export interface HubState extends FeedCondition {
  lastSeq: number;
  lastPollAtMs: number | null;
  lastFanout: LastFanout | null;
  /** When the feed's status last changed: a status's version as it travels the tree. */
  statusAtMs: number;
  startedAtMs: number;
}

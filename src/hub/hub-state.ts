import type { DeliveryReport } from "../contracts";
import type { FeedCondition } from "./feed-status";

/** What the hub remembers between polls, besides its history and subscribers. */
export interface HubState extends FeedCondition {
  lastSeq: number;
  lastPollAtMs: number | null;
  lastFanout: (DeliveryReport & { seq: number; relays: number; durationMs: number }) | null;
  startedAtMs: number;
}

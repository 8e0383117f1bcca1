import type { DeliveryReport } from "../contracts";
import type { Currency } from "../protocol";

/** What the hub remembers between polls, besides its history and subscribers. */
export interface HubState {
  lastSeq: number;
  lastPollAtMs: number | null;
  lastFreshAtMs: number | null;
  staleSinceMs: number | null;
  suspect: Currency[];
  lastFanout: (DeliveryReport & { seq: number; relays: number; durationMs: number }) | null;
  startedAtMs: number;
}

import type { StatusMessage, Tick } from "../protocol";

/**
 * What the hub pushes to client sessions (directly or through relays). A tick carries the epoch of
 * the history it belongs to: a session that sees it change knows the hub started a new history.
 */
export type HubEvent = { kind: "tick"; tick: Tick; epoch: string } | { kind: "status"; status: StatusMessage };

/** A session's answer: `subscribed: false` tells the hub to forget it (it expired). */
export interface ReceiveResult {
  subscribed: boolean;
}

export interface DeliveryReport {
  delivered: number;
  failed: number;
  /** Sessions that no longer exist: the hub drops them from its subscribers. */
  gone: string[];
}

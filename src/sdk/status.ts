import type { StatusMessage } from "../protocol";
import type { FeedStatus, PriceTick } from "./types";

export function toFeedStatus(msg: StatusMessage): FeedStatus {
  switch (msg.state) {
    case "live":
      return { state: "live" };
    case "stale":
      return { state: "stale", since: msg.since };
    case "disputed":
      return { state: "disputed", since: msg.since, disputes: msg.disputes };
  }
}

export function sameStatus(a: FeedStatus | null, b: FeedStatus): boolean {
  return a !== null && JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The status after a delivered tick. The server says `live` when the feed recovers, but a client
 * that was away then never hears it (a connection only gets the status when it is not live): a
 * tick published after the feed went stale shows it is live again.
 */
export function statusAfterTick(current: FeedStatus | null, tick: PriceTick): FeedStatus | null {
  if (current?.state === "stale" && !tick.replayed && tick.ts >= current.since) return { state: "live" };
  return current;
}

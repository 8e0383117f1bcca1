/** What the connection pill says: its label and the line under it (pure, for the status panel and tests). */
import { formatClock, retryText } from "./format";
import type { ViewState } from "./state";

export const STATUS_TEXT: Record<ViewState["connection"], string> = {
  connecting: "Connecting…",
  live: "Live",
  stale: "Stale",
  reconnecting: "Reconnecting",
  closed: "Closed",
};

export function statusDetail(state: ViewState, nowMs: number): string {
  switch (state.connection) {
    case "reconnecting":
      return state.retryAt !== null ? `${retryText(state.retryAt, nowMs)} (attempt ${state.attempt + 1})` : "";
    case "stale":
      return state.staleSince !== null ? `no fresh price since ${formatClock(state.staleSince)}` : "no fresh price";
    case "live":
      if (state.replaying) return "replaying missed prices…";
      // Heartbeats keep coming and no price: the market is quiet, not the feed dead.
      return state.aliveAtMs !== null ? `quiet market · feed alive ${formatClock(state.aliveAtMs)}` : "";
    case "closed":
      return "press Open to resume";
    case "connecting":
      return "";
  }
}

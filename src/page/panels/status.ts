/** The connection pill in the top bar (connecting, live, stale, reconnecting, closed) and Open/Close. */
import { byId, setText } from "../dom";
import { formatClock, retryText } from "../format";
import type { ViewState } from "../state";
import type { RenderPanel, ViewActions } from "./panel";

const STATUS_TEXT: Record<ViewState["connection"], string> = {
  connecting: "Connecting…",
  live: "Live",
  stale: "Stale",
  reconnecting: "Reconnecting",
  closed: "Closed",
};

function detailText(state: ViewState, nowMs: number): string {
  switch (state.connection) {
    case "reconnecting":
      return state.retryAt !== null ? `${retryText(state.retryAt, nowMs)} (attempt ${state.attempt + 1})` : "";
    case "stale":
      return state.staleSince !== null ? `no fresh price since ${formatClock(state.staleSince)}` : "no fresh price";
    case "live":
      return state.replaying ? "replaying missed prices…" : "";
    case "closed":
      return "press Open to resume";
    case "connecting":
      return "";
  }
}

export function mount(actions: Pick<ViewActions, "open" | "close">): RenderPanel {
  const status = byId("status");
  const statusText = byId("status-text");
  const statusDetail = byId("status-detail");
  const openBtn = byId<HTMLButtonElement>("open");
  const closeBtn = byId<HTMLButtonElement>("close");
  openBtn.addEventListener("click", () => actions.open());
  closeBtn.addEventListener("click", () => actions.close());

  return (state, nowMs) => {
    status.dataset.state = state.connection;
    setText(statusText, STATUS_TEXT[state.connection]);
    setText(statusDetail, detailText(state, nowMs));
    openBtn.disabled = state.connection !== "closed" && state.connection !== "reconnecting";
    setText(openBtn, state.connection === "reconnecting" ? "Retry now" : "Open");
    closeBtn.disabled = state.connection === "closed";
  };
}

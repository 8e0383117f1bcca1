/** The connection pill in the top bar (connecting, live, stale, reconnecting, closed) and Open/Close. */
import { byId, setText } from "../dom";
import { STATUS_TEXT, statusDetail } from "../status-text";
import type { RenderPanel, ViewActions } from "./panel";

export function mount(actions: Pick<ViewActions, "open" | "close">): RenderPanel {
  const status = byId("status");
  const statusText = byId("status-text");
  const detail = byId("status-detail");
  const openBtn = byId<HTMLButtonElement>("open");
  const closeBtn = byId<HTMLButtonElement>("close");
  openBtn.addEventListener("click", () => actions.open());
  closeBtn.addEventListener("click", () => actions.close());

  return (state, nowMs) => {
    status.dataset.state = state.connection;
    setText(statusText, STATUS_TEXT[state.connection]);
    setText(detail, statusDetail(state, nowMs));
    openBtn.disabled = state.connection !== "closed" && state.connection !== "reconnecting";
    setText(openBtn, state.connection === "reconnecting" ? "Retry now" : "Open");
    closeBtn.disabled = state.connection === "closed";
  };
}

/** The notices above the prices: what was missed (replayed, gaps, a reset), held-back prices, a server error. */
import { byId, setText } from "../dom";
import { disputeDetail, disputeTitle, formatClock, missedText, serverErrorText } from "../format";
import { watchedDisputes, type MissedNotice, type ViewState } from "../state";
import type { RenderPanel, ViewActions } from "./panel";

function missedTitle(missed: MissedNotice): string {
  if (missed.count > 0) return missedText(missed.count);
  return missed.reset ? "The feed's history was reset" : "Some prices could not be replayed";
}

function missedDetailText(missed: MissedNotice): string {
  const gaps = missed.gaps
    .map((g) => (g.fromSeq === g.toSeq ? `#${g.fromSeq}` : `#${g.fromSeq}–#${g.toSeq}`))
    .join(", ");
  const parts = [
    missed.count > 0 ? "They are marked “replayed” below" : "",
    gaps ? `not available any more: ${gaps}` : "",
    missed.reset ? "prices from before the reset cannot be replayed" : "",
  ].filter(Boolean);
  return `${parts.join("; ")}.`;
}

export function mount(actions: Pick<ViewActions, "dismissMissed" | "dismissError">): RenderPanel {
  const missed = byId("missed");
  const missedTextEl = byId("missed-text");
  const missedDetail = byId("missed-detail");
  const disputed = byId("disputed");
  const disputedText = byId("disputed-text");
  const disputedDetail = byId("disputed-detail");
  const errorBox = byId("error");
  const errorText = byId("error-text");
  byId("missed-dismiss").addEventListener("click", () => actions.dismissMissed());
  byId("error-dismiss").addEventListener("click", () => actions.dismissError());

  const renderMissed = (state: ViewState) => {
    const notice = state.missed;
    if (notice && (notice.count > 0 || notice.gaps.length > 0 || notice.reset)) {
      missed.hidden = false;
      missed.dataset.count = String(notice.count);
      setText(missedTextEl, missedTitle(notice));
      setText(missedDetail, missedDetailText(notice));
    } else {
      missed.hidden = true;
      delete missed.dataset.count;
    }
  };

  const renderDisputed = (state: ViewState) => {
    const disputes = watchedDisputes(state);
    disputed.hidden = disputes.length === 0;
    if (disputes.length === 0) return;
    setText(disputedText, disputeTitle(disputes));
    const since = state.disputed ? ` (since ${formatClock(state.disputed.sinceMs)})` : "";
    setText(disputedDetail, `${disputeDetail(disputes)}${since}. The last confirmed price stays shown.`);
  };

  const renderError = (state: ViewState) => {
    errorBox.hidden = state.error === null;
    if (state.error) setText(errorText, serverErrorText(state.error.code, state.error.message));
  };

  return (state) => {
    renderMissed(state);
    renderDisputed(state);
    renderError(state);
  };
}

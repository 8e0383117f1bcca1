/** The footer's facts: sources, last seq, update interval, client id. */
import { byId, setText } from "../dom";
import type { RenderPanel } from "./panel";

export function mount(): RenderPanel {
  const sources = byId("fact-sources");
  const seq = byId("fact-seq");
  const interval = byId("fact-interval");
  const client = byId("fact-client");
  return (state) => {
    setText(sources, state.sources.length > 0 ? state.sources.join(", ") : "–");
    setText(seq, state.lastSeq !== null ? `#${state.lastSeq}` : "–");
    setText(interval, state.intervalMs !== null ? `${state.intervalMs / 1000} s` : "–");
    setText(client, state.clientId ?? "–");
  };
}

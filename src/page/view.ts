/**
 * Renders a ViewState into the static skeleton of index.html, one panel at a time
 * (src/page/panels/): each finds its elements once and updates them in place.
 */
import * as cards from "./panels/cards";
import * as chart from "./panels/chart";
import * as documentPanel from "./panels/document";
import * as facts from "./panels/facts";
import * as notices from "./panels/notices";
import type { RenderPanel, ViewActions } from "./panels/panel";
import * as picker from "./panels/picker";
import * as status from "./panels/status";
import * as ticks from "./panels/ticks";
import type { ViewState } from "./state";

export type { ViewActions } from "./panels/panel";

export interface View {
  render(state: ViewState, nowMs: number): void;
}

export function createView(actions: ViewActions): View {
  const panels: RenderPanel[] = [
    documentPanel.mount(),
    status.mount(actions),
    notices.mount(actions),
    cards.mount(actions),
    picker.mount(actions),
    chart.mount(actions),
    ticks.mount(),
    facts.mount(),
  ];
  return {
    render(state, nowMs) {
      for (const render of panels) render(state, nowMs);
    },
  };
}

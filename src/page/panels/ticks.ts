/** The log of recent ticks, newest first, with the replayed ones marked. */
import { byId, el } from "../dom";
import { formatClock, formatPrice } from "../format";
import type { TickRow, ViewState } from "../state";
import type { RenderPanel } from "./panel";

function row(t: TickRow, state: ViewState): HTMLTableRowElement {
  const prices = state.wanted
    .filter((c) => t.prices[c] !== undefined)
    .map((c) => formatPrice(t.prices[c]!, c))
    .join(" · ");
  const seqCell = el("td", { class: "mono", text: `#${t.seq}` });
  const priceCell = el("td", { text: prices });
  if (t.replayed) priceCell.append(" ", el("span", { class: "badge badge-replayed", text: "replayed" }));
  return el(
    "tr",
    { attrs: { "data-seq": String(t.seq), "data-replayed": String(t.replayed) } },
    seqCell,
    el("td", {}, el("time", { text: formatClock(t.time), attrs: { datetime: t.time } })),
    priceCell,
  );
}

export function mount(): RenderPanel {
  const body = byId("ticks-body");
  const empty = byId("ticks-empty");
  return (state) => {
    empty.hidden = state.ticks.length > 0;
    const key = `${state.ticks.map((t) => `${t.seq}${t.replayed ? "r" : ""}`).join()}|${state.wanted.join()}`;
    if (body.dataset.key === key) return;
    body.dataset.key = key;
    body.replaceChildren(...state.ticks.map((t) => row(t, state)));
  };
}

/** The last-hour chart of the focused currency: its tabs, title, summary (change, high, low) and the SVG. */
import { SUPPORTED_CURRENCIES, type Currency } from "../../protocol";
import { createChart } from "../chart";
import { summarize, timeDomain } from "../chart-scale";
import { byId, el, setText } from "../dom";
import { direction, formatPercent, formatPrice, formatSignedPrice } from "../format";
import { CHART_WINDOW_MS, type ViewState } from "../state";
import type { RenderPanel, ViewActions } from "./panel";

/** While there is less than an hour of data the chart zooms in, down to this span. */
const CHART_MIN_SPAN_MS = 60_000;

export function mount(actions: Pick<ViewActions, "focus">): RenderPanel {
  const title = byId("chart-title");
  const summary = byId("chart-summary");
  const tabsHost = byId("chart-tabs");
  const chart = createChart(byId("chart"), byId("chart-readout"));

  // Chart currency: a radio group (arrow keys move between options natively).
  const tabs = new Map<Currency, { label: HTMLLabelElement; input: HTMLInputElement }>();
  for (const c of SUPPORTED_CURRENCIES) {
    const input = el("input", { attrs: { type: "radio", name: "chart-currency", id: `chart-${c}`, value: c } });
    input.addEventListener("change", () => {
      if (input.checked) actions.focus(c);
    });
    const label = el("label", { class: "seg", attrs: { for: `chart-${c}` } }, input, el("span", { text: c }));
    tabs.set(c, { label, input });
  }
  let lastChartKey = "";

  const renderTabs = (state: ViewState) => {
    // Tabs follow the chosen currencies.
    const want = state.wanted;
    const current = [...tabsHost.children].map((n) => (n as HTMLElement).querySelector("input")?.value);
    if (current.join() !== want.join()) tabsHost.replaceChildren(...want.map((c) => tabs.get(c)!.label));
    for (const [c, t] of tabs) t.input.checked = c === state.focus;
    tabsHost.hidden = want.length < 2;
  };

  return (state, nowMs) => {
    renderTabs(state);
    const c = state.focus;
    const points = state.series[c] ?? [];
    setText(title, `BTC / ${c} · last hour`);
    const sum = summarize(points.filter((p) => p.t >= nowMs - CHART_WINDOW_MS));
    if (sum) {
      const change =
        sum.change === 0
          ? "unchanged"
          : `${formatSignedPrice(sum.change, c)} (${formatPercent(sum.change, sum.first)})`;
      setText(summary, `${change} · high ${formatPrice(sum.high, c)} · low ${formatPrice(sum.low, c)}`);
      summary.dataset.dir = direction(sum.change);
    } else {
      setText(summary, "");
    }
    // Redraw when the data changed or every 5 s (the window slides).
    const last = points[points.length - 1];
    const key = `${c}|${points.length}|${last?.seq}|${last?.price}|${Math.floor(nowMs / 5000)}|${state.historyLoaded[c]}`;
    if (key === lastChartKey) return;
    lastChartKey = key;
    const [axisFrom] = timeDomain(points, nowMs, CHART_WINDOW_MS, CHART_MIN_SPAN_MS);
    chart.render({ currency: c, points, fromMs: axisFrom, toMs: nowMs, loading: !state.historyLoaded[c] });
  };
}

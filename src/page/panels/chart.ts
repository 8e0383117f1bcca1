/**
 * The chart of the focused currency: its currency tabs, the range switch (1 h of ticks, 24 h of
 * candles), title, summary (change, high, low) and the SVG.
 */
import { SUPPORTED_CURRENCIES, type Currency } from "../../protocol";
import { DAY_INTERVAL_MS, DAY_WINDOW_MS, dayWindow, summarizeCandles } from "../candles";
import { createChart } from "../chart";
import { CHART_RANGES, RANGE_LABELS, RANGE_TITLES, type ChartRange } from "../chart-range";
import { summarize, timeDomain } from "../chart-scale";
import { byId, el, setText } from "../dom";
import { direction, formatPercent, formatPrice, formatSignedPrice } from "../format";
import { CHART_WINDOW_MS, type ViewState } from "../state";
import type { RenderPanel, ViewActions } from "./panel";

/** While there is less than an hour of data the chart zooms in, down to this span. */
const CHART_MIN_SPAN_MS = 60_000;
/** While there is less than a day of candles the 24-hour chart zooms in, down to this span. */
const DAY_MIN_SPAN_MS = 2 * 3_600_000;

/** A radio group of native radios: arrow keys move between options, Tab leaves the group. */
function radio(name: string, id: string, value: string, label: string, onPick: () => void) {
  const input = el("input", { attrs: { type: "radio", name, id, value, "data-testid": id } });
  input.addEventListener("change", () => {
    if (input.checked) onPick();
  });
  return { input, label: el("label", { class: "seg", attrs: { for: id } }, input, el("span", { text: label })) };
}

interface Summary {
  first: number;
  high: number;
  low: number;
  change: number;
}

function summaryText(sum: Summary, c: Currency): string {
  const change =
    sum.change === 0 ? "unchanged" : `${formatSignedPrice(sum.change, c)} (${formatPercent(sum.change, sum.first)})`;
  return `${change} · high ${formatPrice(sum.high, c)} · low ${formatPrice(sum.low, c)}`;
}

export function mount(actions: Pick<ViewActions, "focus" | "setRange">): RenderPanel {
  const title = byId("chart-title");
  const summary = byId("chart-summary");
  const tabsHost = byId("chart-tabs");
  const chartHost = byId("chart");
  const chart = createChart(chartHost, byId("chart-readout"));

  const tabs = new Map<Currency, { label: HTMLLabelElement; input: HTMLInputElement }>();
  for (const c of SUPPORTED_CURRENCIES)
    tabs.set(
      c,
      radio("chart-currency", `chart-${c}`, c, c, () => actions.focus(c)),
    );
  const ranges = new Map<ChartRange, HTMLInputElement>();
  const rangeHost = byId("chart-range");
  for (const r of CHART_RANGES) {
    const { input, label } = radio("chart-range", `range-${r}`, r, RANGE_LABELS[r], () => actions.setRange(r));
    ranges.set(r, input);
    rangeHost.append(label);
  }
  let lastChartKey = "";

  const renderTabs = (state: ViewState) => {
    // Tabs follow the chosen currencies.
    const want = state.wanted;
    const current = [...tabsHost.children].map((n) => (n as HTMLElement).querySelector("input")?.value);
    if (current.join() !== want.join()) tabsHost.replaceChildren(...want.map((c) => tabs.get(c)!.label));
    for (const [c, t] of tabs) t.input.checked = c === state.focus;
    tabsHost.hidden = want.length < 2;
    for (const [r, input] of ranges) input.checked = r === state.range;
  };

  const renderHour = (state: ViewState, nowMs: number) => {
    const c = state.focus;
    const points = state.series[c] ?? [];
    const sum = summarize(points.filter((p) => p.t >= nowMs - CHART_WINDOW_MS));
    setText(summary, sum ? summaryText(sum, c) : "");
    summary.dataset.dir = direction(sum?.change ?? null);
    // Redraw when the data changed or every 5 s (the window slides).
    const last = points[points.length - 1];
    const key = [
      "1h",
      c,
      points.length,
      last?.seq,
      last?.price,
      Math.floor(nowMs / 5000),
      state.historyLoaded[c],
    ].join();
    if (key === lastChartKey) return;
    lastChartKey = key;
    const [axisFrom] = timeDomain(points, nowMs, CHART_WINDOW_MS, CHART_MIN_SPAN_MS);
    chart.render({
      currency: c,
      points,
      candles: null,
      span: RANGE_TITLES["1h"],
      fromMs: axisFrom,
      toMs: nowMs,
      loading: !state.historyLoaded[c],
    });
  };

  const renderDay = (state: ViewState, nowMs: number) => {
    const c = state.focus;
    const candles = state.candles[c] ?? [];
    const sum = summarizeCandles(candles);
    setText(summary, sum ? summaryText({ ...sum, first: sum.open }, c) : "");
    summary.dataset.dir = direction(sum?.change ?? null);
    const last = candles[candles.length - 1];
    // Redraw when the last candle moved or every minute (the window slides a bucket at a time).
    const minute = Math.floor(nowMs / 60_000);
    const key = [
      "24h",
      c,
      candles.length,
      last?.time,
      last?.high,
      last?.low,
      last?.close,
      minute,
      state.candlesLoaded[c],
    ];
    if (key.join() === lastChartKey) return;
    lastChartKey = key.join();
    const starts = candles.slice(0, 1).map((k) => ({ seq: 0, t: k.time * 1000, price: k.open, replayed: false }));
    const [, windowEnd] = dayWindow(nowMs);
    const [axisFrom] = timeDomain(starts, windowEnd, DAY_WINDOW_MS, DAY_MIN_SPAN_MS);
    chart.render({
      currency: c,
      points: [],
      candles: { list: candles, intervalMs: DAY_INTERVAL_MS },
      span: RANGE_TITLES["24h"],
      fromMs: axisFrom,
      toMs: windowEnd,
      loading: !state.candlesLoaded[c],
    });
  };

  return (state, nowMs) => {
    renderTabs(state);
    setText(title, `BTC / ${state.focus} · ${RANGE_TITLES[state.range]}`);
    chartHost.dataset.range = state.range;
    if (state.range === "24h") renderDay(state, nowMs);
    else renderHour(state, nowMs);
  };
}

/**
 * Renders a ViewState into the static skeleton of index.html. Elements are created once
 * and updated in place; text goes through textContent only (CSP / Trusted Types clean).
 */
import { SUPPORTED_CURRENCIES, type Currency } from "../protocol";
import { summarize, timeDomain } from "./chart-scale";
import { createChart, type ChartHandle } from "./chart";
import {
  direction,
  disputeDetail,
  disputeTitle,
  formatAgo,
  formatClock,
  formatPercent,
  formatPrice,
  formatSignedPrice,
  missedText,
  retryText,
} from "./format";
import { CHART_WINDOW_MS, watchedDisputes, type ViewState } from "./state";

export interface ViewActions {
  open(): void;
  close(): void;
  toggleCurrency(currency: Currency, on: boolean): void;
  focus(currency: Currency): void;
  dismissMissed(): void;
  dismissError(): void;
}

const CURRENCY_NAMES: Record<Currency, string> = {
  USD: "US dollar",
  EUR: "Euro",
  GBP: "British pound",
  JPY: "Japanese yen",
  CAD: "Canadian dollar",
  CHF: "Swiss franc",
  AUD: "Australian dollar",
};

/** While there is less than an hour of data the chart zooms in, down to this span. */
const CHART_MIN_SPAN_MS = 60_000;

const STATUS_TEXT: Record<ViewState["connection"], string> = {
  connecting: "Connecting…",
  live: "Live",
  stale: "Stale",
  reconnecting: "Reconnecting",
  closed: "Closed",
};

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; text?: string; attrs?: Record<string, string> } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [k, v] of Object.entries(props.attrs ?? {})) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function setText(node: Element, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

interface Card {
  root: HTMLElement;
  chartBtn: HTMLButtonElement;
  price: HTMLElement;
  change: HTMLElement;
  arrow: HTMLElement;
  changeText: HTMLElement;
  time: HTMLTimeElement;
  ago: HTMLElement;
  seq: HTMLElement;
  sources: HTMLElement;
  lastSeq: number | null;
}

function createCard(currency: Currency, onFocus: () => void): Card {
  const price = el("p", { class: "card-price", attrs: { "data-testid": `price-${currency}` } });
  const arrow = el("span", { class: "change-arrow", attrs: { "aria-hidden": "true" } });
  const changeText = el("span", { class: "change-text" });
  const change = el("p", { class: "card-change", attrs: { "data-testid": `change-${currency}` } }, arrow, changeText);
  const time = el("time", { attrs: { "data-testid": `time-${currency}` } });
  const ago = el("span", { class: "card-ago" });
  const seq = el("span", { class: "card-seq" });
  const badge = el("span", {
    class: "badge badge-replayed",
    text: "replayed",
    attrs: { "data-testid": `replayed-${currency}` },
  });
  const disputedBadge = el("span", {
    class: "badge badge-disputed",
    text: "held back",
    attrs: { "data-testid": `disputed-${currency}` },
  });
  const sources = el("p", { class: "card-sources", attrs: { "data-testid": `sources-${currency}` } });
  const chartBtn = el("button", {
    class: "card-chart-btn",
    text: "Chart",
    attrs: { type: "button", "aria-label": `Show ${currency} in the chart` },
  });
  chartBtn.addEventListener("click", onFocus);
  const root = el(
    "article",
    {
      class: "card",
      attrs: {
        "data-currency": currency,
        "data-testid": `card-${currency}`,
        "aria-label": `BTC in ${CURRENCY_NAMES[currency]}`,
      },
    },
    el(
      "header",
      { class: "card-head" },
      el("span", { class: "card-ccy", text: `BTC / ${currency}` }),
      badge,
      disputedBadge,
      chartBtn,
    ),
    price,
    change,
    el(
      "p",
      { class: "card-when" },
      time,
      el("span", { class: "sep", text: " · ", attrs: { "aria-hidden": "true" } }),
      ago,
      seq,
    ),
    sources,
  );
  return { root, chartBtn, price, change, arrow, changeText, time, ago, seq, sources, lastSeq: null };
}

export interface View {
  render(state: ViewState, nowMs: number): void;
}

export function createView(actions: ViewActions): View {
  const status = byId("status");
  const statusText = byId("status-text");
  const statusDetail = byId("status-detail");
  const openBtn = byId<HTMLButtonElement>("open");
  const closeBtn = byId<HTMLButtonElement>("close");
  const missed = byId("missed");
  const missedTextEl = byId("missed-text");
  const missedDetail = byId("missed-detail");
  const disputed = byId("disputed");
  const disputedText = byId("disputed-text");
  const disputedDetail = byId("disputed-detail");
  const errorBox = byId("error");
  const errorText = byId("error-text");
  const cardsHost = byId("cards");
  const chartTitle = byId("chart-title");
  const chartSummary = byId("chart-summary");
  const chartTabs = byId("chart-tabs");
  const pickerOptions = byId("picker-options");
  const ticksBody = byId("ticks-body");
  const ticksEmpty = byId("ticks-empty");
  const factSources = byId("fact-sources");
  const factSeq = byId("fact-seq");
  const factInterval = byId("fact-interval");
  const factClient = byId("fact-client");
  const chart: ChartHandle = createChart(byId("chart"), byId("chart-readout"));

  openBtn.addEventListener("click", () => actions.open());
  closeBtn.addEventListener("click", () => actions.close());
  byId("missed-dismiss").addEventListener("click", () => actions.dismissMissed());
  byId("error-dismiss").addEventListener("click", () => actions.dismissError());

  // Currency picker: one checkbox chip per supported currency.
  const checkboxes = new Map<Currency, HTMLInputElement>();
  for (const c of SUPPORTED_CURRENCIES) {
    const input = el("input", { attrs: { type: "checkbox", id: `ccy-${c}`, value: c, "data-testid": `pick-${c}` } });
    input.addEventListener("change", () => actions.toggleCurrency(c, input.checked));
    const label = el(
      "label",
      { class: "chip", attrs: { for: `ccy-${c}`, title: CURRENCY_NAMES[c] } },
      input,
      el("span", { class: "chip-code", text: c }),
      el("span", { class: "visually-hidden", text: ` (${CURRENCY_NAMES[c]})` }),
    );
    pickerOptions.append(label);
    checkboxes.set(c, input);
  }

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

  const cards = new Map<Currency, Card>();
  let lastChartKey = "";

  function renderStatus(state: ViewState, nowMs: number) {
    status.dataset.state = state.connection;
    setText(statusText, STATUS_TEXT[state.connection]);
    let detail = "";
    if (state.connection === "reconnecting") {
      detail = state.retryAt !== null ? `${retryText(state.retryAt, nowMs)} (attempt ${state.attempt + 1})` : "";
    } else if (state.connection === "stale") {
      detail = state.staleSince !== null ? `no fresh price since ${formatClock(state.staleSince)}` : "no fresh price";
    } else if (state.connection === "live") {
      detail = state.replaying ? "replaying missed prices…" : "";
    } else if (state.connection === "closed") {
      detail = "press Open to resume";
    }
    setText(statusDetail, detail);
    openBtn.disabled = state.connection !== "closed" && state.connection !== "reconnecting";
    setText(openBtn, state.connection === "reconnecting" ? "Retry now" : "Open");
    closeBtn.disabled = state.connection === "closed";
  }

  function renderNotices(state: ViewState) {
    if (state.missed && (state.missed.count > 0 || state.missed.gaps.length > 0 || state.missed.reset)) {
      missed.hidden = false;
      missed.dataset.count = String(state.missed.count);
      setText(
        missedTextEl,
        state.missed.count > 0
          ? missedText(state.missed.count)
          : state.missed.reset
            ? "The feed's history was reset"
            : "Some prices could not be replayed",
      );
      const gaps = state.missed.gaps
        .map((g) => (g.fromSeq === g.toSeq ? `#${g.fromSeq}` : `#${g.fromSeq}–#${g.toSeq}`))
        .join(", ");
      const parts = [
        state.missed.count > 0 ? "They are marked “replayed” below" : "",
        gaps ? `not available any more: ${gaps}` : "",
        state.missed.reset ? "prices from before the reset cannot be replayed" : "",
      ].filter(Boolean);
      setText(missedDetail, `${parts.join("; ")}.`);
    } else {
      missed.hidden = true;
      delete missed.dataset.count;
    }
    const disputes = watchedDisputes(state);
    disputed.hidden = disputes.length === 0;
    if (disputes.length > 0) {
      setText(disputedText, disputeTitle(disputes));
      const since = state.disputed ? ` (since ${formatClock(state.disputed.sinceMs)})` : "";
      setText(disputedDetail, `${disputeDetail(disputes)}${since}. The last confirmed price stays shown.`);
    }
    if (state.error) {
      errorBox.hidden = false;
      setText(errorText, `${state.error.message} (${state.error.code})`);
    } else {
      errorBox.hidden = true;
    }
  }

  function renderCards(state: ViewState, nowMs: number) {
    const disputedNow = watchedDisputes(state).map((d) => d.currency);
    for (const [c, card] of cards) {
      if (!state.wanted.includes(c)) {
        card.root.remove();
        cards.delete(c);
      }
    }
    state.wanted.forEach((c, i) => {
      let card = cards.get(c);
      if (!card) {
        card = createCard(c, () => actions.focus(c));
        cards.set(c, card);
      }
      if (cardsHost.children[i] !== card.root) cardsHost.insertBefore(card.root, cardsHost.children[i] ?? null);
      const v = state.prices[c];
      const dir = direction(v?.change ?? null);
      card.root.dataset.dir = dir;
      card.root.dataset.replayed = String(Boolean(v?.replayed));
      card.root.dataset.disputed = String(disputedNow.includes(c));
      setText(card.sources, v?.sources ? `from ${v.sources.join(", ")}` : "");
      card.root.dataset.focus = String(state.focus === c);
      card.chartBtn.setAttribute("aria-pressed", String(state.focus === c));
      if (!v) {
        card.price.dataset.value = "";
        setText(card.price, "—");
        setText(card.changeText, "waiting for a price");
        setText(card.arrow, "");
        card.time.removeAttribute("datetime");
        setText(card.time, "");
        setText(card.ago, "");
        setText(card.seq, "");
        return;
      }
      card.price.dataset.value = String(v.price);
      setText(card.price, formatPrice(v.price, c));
      if (v.change === null) {
        setText(card.arrow, "•");
        setText(card.changeText, v.fromSnapshot ? "latest price" : "first price");
      } else if (v.change === 0) {
        setText(card.arrow, "=");
        setText(card.changeText, "unchanged");
      } else {
        setText(card.arrow, v.change > 0 ? "▲" : "▼");
        setText(
          card.changeText,
          `${formatSignedPrice(v.change, c)} (${formatPercent(v.change, v.previous ?? v.price)})`,
        );
      }
      card.time.dateTime = v.time;
      setText(card.time, formatClock(v.time));
      setText(card.ago, formatAgo(Date.parse(v.time), nowMs));
      setText(card.seq, v.fromSnapshot ? "" : ` · #${v.seq}`);
      if (card.lastSeq !== null && card.lastSeq !== v.seq && dir !== "flat") {
        // Restart the flash animation.
        card.root.classList.remove("flash-up", "flash-down");
        void card.root.offsetWidth;
        card.root.classList.add(dir === "up" ? "flash-up" : "flash-down");
      }
      card.lastSeq = v.seq;
    });
    cardsHost.dataset.count = String(state.wanted.length);
  }

  function renderPicker(state: ViewState) {
    const pending = state.confirmed !== null && state.confirmed.join() !== state.wanted.join();
    for (const [c, input] of checkboxes) {
      input.checked = state.wanted.includes(c);
      // The last currency cannot be removed: the socket always has one.
      input.disabled = state.wanted.length === 1 && input.checked;
      input.parentElement!.dataset.pending = String(
        pending && state.wanted.includes(c) !== state.confirmed!.includes(c),
      );
    }
  }

  function renderChart(state: ViewState, nowMs: number) {
    // Tabs follow the chosen currencies.
    const want = state.wanted;
    const current = [...chartTabs.children].map((n) => (n as HTMLElement).querySelector("input")?.value);
    if (current.join() !== want.join()) chartTabs.replaceChildren(...want.map((c) => tabs.get(c)!.label));
    for (const [c, t] of tabs) t.input.checked = c === state.focus;
    chartTabs.hidden = want.length < 2;

    const c = state.focus;
    const points = state.series[c] ?? [];
    const fromMs = nowMs - CHART_WINDOW_MS;
    setText(chartTitle, `BTC / ${c} · last hour`);
    const inWindow = points.filter((p) => p.t >= fromMs);
    const sum = summarize(inWindow);
    if (sum) {
      const pct = formatPercent(sum.change, sum.first);
      setText(
        chartSummary,
        `${sum.change === 0 ? "unchanged" : `${formatSignedPrice(sum.change, c)} (${pct})`} · high ${formatPrice(sum.high, c)} · low ${formatPrice(sum.low, c)}`,
      );
      chartSummary.dataset.dir = direction(sum.change);
    } else {
      setText(chartSummary, "");
    }
    // Redraw when the data changed or every 5 s (the window slides).
    const last = points[points.length - 1];
    const key = `${c}|${points.length}|${last?.seq}|${last?.price}|${Math.floor(nowMs / 5000)}|${state.historyLoaded[c]}`;
    if (key === lastChartKey) return;
    lastChartKey = key;
    const [axisFrom] = timeDomain(points, nowMs, CHART_WINDOW_MS, CHART_MIN_SPAN_MS);
    chart.render({ currency: c, points, fromMs: axisFrom, toMs: nowMs, loading: !state.historyLoaded[c] });
  }

  function renderTicks(state: ViewState) {
    ticksEmpty.hidden = state.ticks.length > 0;
    const key = `${state.ticks.map((t) => `${t.seq}${t.replayed ? "r" : ""}`).join()}|${state.wanted.join()}`;
    if (ticksBody.dataset.key === key) return;
    ticksBody.dataset.key = key;
    const rows = state.ticks.map((t) => {
      const prices = state.wanted
        .filter((c) => t.prices[c] !== undefined)
        .map((c) => formatPrice(t.prices[c]!, c))
        .join(" · ");
      const seqCell = el("td", { class: "mono", text: `#${t.seq}` });
      const priceCell = el("td", { text: prices });
      if (t.replayed) priceCell.append(" ", el("span", { class: "badge badge-replayed", text: "replayed" }));
      const row = el(
        "tr",
        { attrs: { "data-seq": String(t.seq), "data-replayed": String(t.replayed) } },
        seqCell,
        el("td", {}, el("time", { text: formatClock(t.time), attrs: { datetime: t.time } })),
        priceCell,
      );
      return row;
    });
    ticksBody.replaceChildren(...rows);
  }

  function renderFacts(state: ViewState) {
    setText(factSources, state.sources.length > 0 ? state.sources.join(", ") : "–");
    setText(factSeq, state.lastSeq !== null ? `#${state.lastSeq}` : "–");
    setText(factInterval, state.intervalMs !== null ? `${state.intervalMs / 1000} s` : "–");
    setText(factClient, state.clientId ?? "–");
  }

  return {
    render(state, nowMs) {
      // Lets the stylesheet dim prices that are not live.
      document.body.dataset.connection = state.connection;
      renderStatus(state, nowMs);
      renderNotices(state);
      renderCards(state, nowMs);
      renderPicker(state);
      renderChart(state, nowMs);
      renderTicks(state);
      renderFacts(state);
      document.title = (() => {
        const v = state.prices[state.focus];
        return v ? `${formatPrice(v.price, state.focus)} · BTC live` : "BTC live price";
      })();
    },
  };
}

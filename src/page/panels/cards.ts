/**
 * One card per chosen currency: the price, its change since the previous tick, the 24-hour change,
 * high and low, when, and from where.
 */
import type { Currency } from "../../protocol";
import { CURRENCY_NAMES } from "../currency-names";
import { byId, el, setText } from "../dom";
import { dayChange, type DayFigures } from "../day-figures";
import {
  direction,
  formatAgo,
  formatClock,
  formatPercent,
  formatPrice,
  formatSignedPercent,
  formatSignedPrice,
} from "../format";
import { watchedDisputes, type CurrencyView } from "../state";
import type { RenderPanel, ViewActions } from "./panel";

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
  day: DayRow;
  lastSeq: number | null;
}

/** The 24-hour figures: change (arrow and words beside the colour), high, low. */
interface DayRow {
  change: HTMLElement;
  arrow: HTMLElement;
  trend: HTMLElement;
  changeText: HTMLElement;
  high: HTMLElement;
  low: HTMLElement;
}

function createDayRow(currency: Currency): { root: HTMLElement; row: DayRow } {
  const arrow = el("span", { class: "day-arrow", attrs: { "aria-hidden": "true" } });
  const trend = el("span", { class: "visually-hidden" });
  const changeText = el("span");
  const change = el("dd", { attrs: { "data-testid": `day-change-${currency}` } }, arrow, trend, changeText);
  const high = el("dd", { attrs: { "data-testid": `day-high-${currency}` } });
  const low = el("dd", { attrs: { "data-testid": `day-low-${currency}` } });
  // "High" and "Low" sit beside "24 h" on screen; a screen reader hears each label whole.
  const label = (hidden: string, shown: string) =>
    el("dt", {}, el("span", { class: "visually-hidden", text: hidden }), el("span", { text: shown }));
  const root = el(
    "dl",
    { class: "card-day", attrs: { "data-testid": `day-${currency}` } },
    el("div", { class: "day-item day-change" }, el("dt", { text: "24 h" }), change),
    el("div", { class: "day-item" }, label("24 h ", "High"), high),
    el("div", { class: "day-item" }, label("24 h ", "Low"), low),
  );
  return { root, row: { change, arrow, trend, changeText, high, low } };
}

function renderDay(row: DayRow, c: Currency, figures: DayFigures | undefined): void {
  if (!figures) {
    row.change.dataset.dir = "flat";
    for (const node of [row.arrow, row.trend]) setText(node, "");
    for (const node of [row.changeText, row.high, row.low]) setText(node, "—");
    return;
  }
  const { change, change_pct } = dayChange(figures);
  const dir = direction(change);
  row.change.dataset.dir = dir;
  setText(row.arrow, dir === "up" ? "▲ " : dir === "down" ? "▼ " : "= ");
  setText(row.trend, dir === "up" ? "up " : dir === "down" ? "down " : "unchanged ");
  setText(row.changeText, `${formatSignedPrice(change, c)} (${formatSignedPercent(change_pct)})`);
  setText(row.high, formatPrice(figures.high, c));
  setText(row.low, formatPrice(figures.low, c));
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
  const day = createDayRow(currency);
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
    day.root,
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
  return { root, chartBtn, price, change, arrow, changeText, time, ago, seq, sources, day: day.row, lastSeq: null };
}

function renderWaiting(card: Card): void {
  card.price.dataset.value = "";
  setText(card.price, "—");
  setText(card.changeText, "waiting for a price");
  setText(card.arrow, "");
  card.time.removeAttribute("datetime");
  setText(card.time, "");
  setText(card.ago, "");
  setText(card.seq, "");
}

function renderPrice(card: Card, c: Currency, v: CurrencyView, nowMs: number): void {
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
    setText(card.changeText, `${formatSignedPrice(v.change, c)} (${formatPercent(v.change, v.previous ?? v.price)})`);
  }
  card.time.dateTime = v.time;
  setText(card.time, formatClock(v.time));
  setText(card.ago, formatAgo(Date.parse(v.time), nowMs));
  setText(card.seq, v.fromSnapshot ? "" : ` · #${v.seq}`);
  const dir = direction(v.change);
  if (card.lastSeq !== null && card.lastSeq !== v.seq && dir !== "flat") {
    // Restart the flash animation.
    card.root.classList.remove("flash-up", "flash-down");
    void card.root.offsetWidth;
    card.root.classList.add(dir === "up" ? "flash-up" : "flash-down");
  }
  card.lastSeq = v.seq;
}

export function mount(actions: Pick<ViewActions, "focus">): RenderPanel {
  const host = byId("cards");
  const cards = new Map<Currency, Card>();

  return (state, nowMs) => {
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
      if (host.children[i] !== card.root) host.insertBefore(card.root, host.children[i] ?? null);
      const v = state.prices[c];
      card.root.dataset.dir = direction(v?.change ?? null);
      card.root.dataset.replayed = String(Boolean(v?.replayed));
      card.root.dataset.disputed = String(disputedNow.includes(c));
      setText(card.sources, v?.sources ? `from ${v.sources.join(", ")}` : "");
      card.root.dataset.focus = String(state.focus === c);
      card.chartBtn.setAttribute("aria-pressed", String(state.focus === c));
      if (v) renderPrice(card, c, v, nowMs);
      else renderWaiting(card);
      renderDay(card.day, c, state.day[c]);
    });
    host.dataset.count = String(state.wanted.length);
  };
}

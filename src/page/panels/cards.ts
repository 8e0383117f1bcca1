/** One card per chosen currency: the price, its change since the previous tick, when, and from where. */
import type { Currency } from "../../protocol";
import { CURRENCY_NAMES } from "../currency-names";
import { byId, el, setText } from "../dom";
import { direction, formatAgo, formatClock, formatPercent, formatPrice, formatSignedPrice } from "../format";
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
    });
    host.dataset.count = String(state.wanted.length);
  };
}

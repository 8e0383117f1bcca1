/**
 * Entry point of the /home page: wires the socket (feed.ts), the HTTP API, storage and
 * the view around the pure reducer in state.ts.
 */
import { HISTORY_MAX_LIMIT, type Currency, type ServerMessage } from "../protocol";
import type { ChartPoint } from "./chart-scale";
import { Feed } from "./feed";
import { apiErrorMessage, parseHistory, parsePriceSnapshot } from "./frames";
import { createPersister, loadPersisted } from "./storage";
import { CHART_WINDOW_MS, initialState, reduce, sortCurrencies, subscriptionDiff, type ViewEvent, type ViewState } from "./state";
import { createView } from "./view";

let state: ViewState = initialState(loadPersisted());
const persist = createPersister();
let renderQueued = false;

function dispatch(event: ViewEvent): void {
  const next = reduce(state, event);
  if (next === state) return;
  state = next;
  persist({ clientId: state.clientId, lastSeq: state.lastSeq, currencies: state.wanted, focus: state.focus });
  scheduleRender();
}

function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    view.render(state, Date.now());
  });
}

// ---- HTTP API ------------------------------------------------------------------------

async function getJson(path: string): Promise<unknown> {
  const res = await fetch(path, { headers: { accept: "application/json" }, cache: "no-store" });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw new Error(apiErrorMessage(body) ?? `${path}: HTTP ${res.status}`);
  return body;
}

const historyInFlight = new Set<Currency>();
/** At most this many pages for one chart: an hour at a 1 s interval is 2 of 2,000 points. */
const MAX_HISTORY_PAGES = 10;

/**
 * The chart's hour, page by page (`next`). `from` is rounded down to the minute and the window
 * left open: every page load in a minute asks the same question, which the edge cache answers.
 */
async function loadHistory(currency: Currency): Promise<void> {
  if (historyInFlight.has(currency) || state.historyLoaded[currency]) return;
  historyInFlight.add(currency);
  try {
    const from = Math.floor((Date.now() - CHART_WINDOW_MS) / 60_000) * 60;
    let path: string | null = `/api/history?currency=${currency}&from=${from}&limit=${HISTORY_MAX_LIMIT}`;
    const points: ChartPoint[] = [];
    let pages = 0;
    while (path !== null && pages < MAX_HISTORY_PAGES) {
      const parsed = parseHistory(await getJson(path));
      if (!parsed) break;
      points.push(...parsed.points);
      path = parsed.next;
      pages++;
    }
    if (pages > 0) dispatch({ type: "history", currency, points, nowMs: Date.now() });
  } catch {
    // No history (yet): the chart fills from the live feed; retried on the next connection.
  } finally {
    historyInFlight.delete(currency);
  }
}

async function loadSnapshot(currencies: Currency[]): Promise<void> {
  if (currencies.length === 0) return;
  try {
    const snapshot = parsePriceSnapshot(await getJson(`/api/price?currencies=${currencies.join(",")}`));
    if (snapshot) dispatch({ type: "snapshot", snapshot });
  } catch {
    // 404 before the first price: the socket will bring it.
  }
}

function loadMissingData(): void {
  for (const c of state.wanted) void loadHistory(c);
  const unpriced = state.wanted.filter((c) => !state.prices[c]);
  void loadSnapshot(unpriced);
}

// ---- socket ---------------------------------------------------------------------------

/** A subscribe/unsubscribe frame is in flight: wait for `subscribed` before sending more. */
let subscriptionInFlight = false;

function reconcileSubscription(): void {
  if (subscriptionInFlight || !feed.isOpen || state.confirmed === null) return;
  const [next] = subscriptionDiff(state.wanted, state.confirmed);
  if (!next) return;
  if (feed.send(next)) subscriptionInFlight = true;
}

function feedUrl(): string {
  const url = new URL("/pricefeed", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("currencies", state.wanted.join(","));
  if (state.clientId) url.searchParams.set("client_id", state.clientId);
  if (state.clientId && state.lastSeq !== null) url.searchParams.set("last_seq", String(state.lastSeq));
  return url.toString();
}

const feed = new Feed({
  url: feedUrl,
  onConnecting() {
    subscriptionInFlight = false;
    dispatch({ type: "connecting", replay: state.clientId !== null && state.lastSeq !== null });
  },
  onFrame(msg: ServerMessage) {
    dispatch({ type: "frame", msg, nowMs: Date.now() });
    if (msg.type === "welcome") {
      reconcileSubscription();
      loadMissingData();
    } else if (msg.type === "subscribed") {
      subscriptionInFlight = false;
      reconcileSubscription();
    } else if (msg.type === "error" && subscriptionInFlight) {
      // The server refused the change: take its set as it is (the next subscribed/welcome corrects it).
      subscriptionInFlight = false;
    }
  },
  onDown(retryAt) {
    subscriptionInFlight = false;
    dispatch({ type: "disconnected", retryAt });
  },
});

// ---- view -----------------------------------------------------------------------------

const view = createView({
  open: () => (feed.isWanted ? feed.retryNow() : feed.open()),
  close: () => feed.close(),
  toggleCurrency(currency, on) {
    const wanted = on ? [...state.wanted, currency] : state.wanted.filter((c) => c !== currency);
    dispatch({ type: "select", currencies: sortCurrencies(wanted) });
    if (on) {
      void loadHistory(currency);
      if (!state.prices[currency]) void loadSnapshot([currency]);
    }
    reconcileSubscription();
    scheduleRender();
  },
  focus: (currency) => dispatch({ type: "focus", currency }),
  dismissMissed: () => dispatch({ type: "dismiss_missed" }),
  dismissError: () => dispatch({ type: "dismiss_error" }),
});

// A one-second clock: "3 s ago", retry countdowns, the chart window sliding.
setInterval(() => {
  dispatch({ type: "clock", nowMs: Date.now() });
  scheduleRender();
}, 1000);

window.addEventListener("online", () => feed.retryNow());

scheduleRender();
loadMissingData();
feed.open();

/**
 * Entry point of the /home page: the feed comes from the client library (src/sdk: reconnect,
 * resume, dedupe, gaps) as this tab's own client (tab-identity.ts); this wires its events, the
 * HTTP API, storage and the view around the pure reducer in state.ts.
 */
import { HISTORY_MAX_LIMIT, type Currency } from "../protocol";
import { PriceFeedClient } from "../sdk";
import type { ChartPoint } from "./chart-scale";
import { browserStorage, browserTabs } from "./browser";
import { apiErrorMessage, parseHistory, parsePriceSnapshot } from "./frames";
import { adoptSharedResumePoint, createPrefsSaver, loadPrefs, STORAGE_PREFIX, storedClientId } from "./storage";
import { CHART_WINDOW_MS, initialState, reduce, sortCurrencies, type ViewEvent, type ViewState } from "./state";
import { claimTabIdentity } from "./tab-identity";
import { createView } from "./view";

const profileStorage = browserStorage("localStorage");
const tabStorage = browserStorage("sessionStorage");
const prefs = loadPrefs(profileStorage);
const savePrefs = createPrefsSaver(profileStorage);
adoptSharedResumePoint(profileStorage, tabStorage);
// This tab's own client: the one its sessionStorage names, unless a live tab it was copied from has it.
const identity = await claimTabIdentity(storedClientId(tabStorage), browserTabs());

function feedUrl(): string {
  const url = new URL("/pricefeed", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

const feed = new PriceFeedClient({
  url: feedUrl(),
  currencies: sortCurrencies(prefs.currencies.length > 0 ? prefs.currencies : ["USD"]),
  // Another id than the stored one starts afresh: the copied resume point is the other tab's.
  clientId: identity.clientId,
  storage: tabStorage ?? undefined,
  storageKey: STORAGE_PREFIX,
});

let state: ViewState = initialState({
  clientId: feed.clientId,
  lastSeq: feed.lastSeq,
  currencies: feed.currencies,
  focus: prefs.focus,
});
let renderQueued = false;

function dispatch(event: ViewEvent): void {
  const next = reduce(state, event);
  if (next === state) return;
  state = next;
  savePrefs({ currencies: state.wanted, focus: state.focus });
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

// ---- the feed --------------------------------------------------------------------------

feed.on("state", (link, detail) =>
  dispatch({
    type: "link",
    state: link,
    attempt: detail.attempt,
    retryAt: detail.retryAt,
    resuming: feed.lastSeq !== null,
  }),
);
feed.on("welcome", (info) => {
  dispatch({ type: "welcome", info });
  loadMissingData();
});
feed.on("price", (tick) => dispatch({ type: "price", tick, nowMs: Date.now() }));
feed.on("gap", (range) => dispatch({ type: "gap", range }));
feed.on("heartbeat", () => dispatch({ type: "heartbeat", nowMs: Date.now() }));
feed.on("replay", ({ count }) => dispatch({ type: "replay", count }));
feed.on("status", (status) => dispatch({ type: "status", status, nowMs: Date.now() }));
feed.on("subscribed", (currencies) => dispatch({ type: "subscribed", currencies }));
feed.on("reset", () => dispatch({ type: "reset" }));
feed.on("error", ({ code, message }) => dispatch({ type: "server_error", code, message }));

// ---- view -----------------------------------------------------------------------------

const view = createView({
  open: () => (feed.state === "reconnecting" ? feed.retryNow() : feed.start()),
  close: () => feed.close(),
  toggleCurrency(currency, on) {
    if (on) feed.subscribe([currency]);
    else if (state.wanted.length > 1) feed.unsubscribe([currency]);
    dispatch({ type: "select", currencies: feed.currencies });
    if (on) {
      void loadHistory(currency);
      if (!state.prices[currency]) void loadSnapshot([currency]);
    }
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
feed.start();

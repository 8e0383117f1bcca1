/**
 * Entry point of the /home page: the feed comes from the client library (src/sdk: reconnect,
 * resume, dedupe, gaps) as this tab's own client (tab-identity.ts); this wires its events, the
 * HTTP API, storage and the view around the pure reducer in state.ts.
 */
import { HISTORY_MAX_LIMIT, type Candle, type Currency } from "../protocol";
import { PriceFeedClient } from "../sdk";
import type { ChartPoint } from "./chart-scale";
import { browserStorage, browserTabs } from "./browser";
import { DAY_INTERVAL, dayWindow } from "./candles";
import { statsQuestion } from "./day-figures";
import { apiErrorMessage, parseCandles, parseHistory, parsePriceSnapshot } from "./frames";
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
  range: prefs.range,
});
let renderQueued = false;

function dispatch(event: ViewEvent): void {
  const next = reduce(state, event);
  if (next === state) return;
  state = next;
  savePrefs({ currencies: state.wanted, focus: state.focus, range: state.range });
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

const candlesInFlight = new Set<Currency>();
/** A day is 96 candles of 15 min: one page. More pages than this means a server that misbehaves. */
const MAX_CANDLE_PAGES = 10;

/**
 * The 24-hour chart's candles, page by page (`next`): its window, the current bucket and the 95
 * before it. A whole day in buckets leaves a bucket of slack for a clock behind the server's (the
 * API refuses a window of more than a day), and `from` stays the same for a bucket: the edge cache answers.
 */
async function loadCandles(currency: Currency): Promise<void> {
  if (candlesInFlight.has(currency) || state.candlesLoaded[currency]) return;
  candlesInFlight.add(currency);
  try {
    const from = dayWindow(Date.now())[0] / 1000;
    let path: string | null = `/api/candles?currency=${currency}&interval=${DAY_INTERVAL}&from=${from}`;
    const candles: Candle[] = [];
    let pages = 0;
    while (path !== null && pages < MAX_CANDLE_PAGES) {
      const parsed = parseCandles(await getJson(path));
      if (!parsed || parsed.currency !== currency || parsed.interval !== DAY_INTERVAL) break;
      candles.push(...parsed.candles);
      path = parsed.next;
      pages++;
    }
    if (pages > 0) dispatch({ type: "candles", currency, candles, nowMs: Date.now() });
  } catch {
    // No candles now: the chart stays "loading"; asked again on the next connection, range or currency switch.
  } finally {
    candlesInFlight.delete(currency);
  }
}

/** The 24-hour chart loads its currency's candles when it is shown. */
function loadChartData(): void {
  if (state.range === "24h") void loadCandles(state.focus);
}

const statsAsked = new Set<Currency>();
let statsAskedAt: number | null = null;

/** Asks /api/price for the 24-hour figures when they are due (statsQuestion); true if it asked. */
function refreshDayFigures(): boolean {
  const nowMs = Date.now();
  const ask = statsQuestion(state.wanted, statsAsked, statsAskedAt, nowMs);
  if (ask.length === 0) return false;
  statsAskedAt = nowMs;
  for (const c of ask) statsAsked.add(c);
  void loadSnapshot(ask);
  return true;
}

/** Currencies a /api/price question on its way asks about: a second one would bring nothing new. */
const snapshotInFlight = new Set<Currency>();

async function loadSnapshot(currencies: Currency[]): Promise<void> {
  if (currencies.length === 0) return;
  for (const c of currencies) snapshotInFlight.add(c);
  try {
    const snapshot = parsePriceSnapshot(await getJson(`/api/price?currencies=${currencies.join(",")}`));
    if (snapshot) dispatch({ type: "snapshot", snapshot });
  } catch {
    // 404 before the first price: the socket will bring it.
  } finally {
    for (const c of currencies) snapshotInFlight.delete(c);
  }
}

function loadMissingData(): void {
  for (const c of state.wanted) void loadHistory(c);
  loadChartData();
  const unpriced = state.wanted.filter((c) => !state.prices[c] && !snapshotInFlight.has(c));
  if (!refreshDayFigures()) void loadSnapshot(unpriced);
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
feed.on("price", (tick) => {
  dispatch({ type: "price", tick, nowMs: Date.now() });
  refreshDayFigures();
});
feed.on("gap", (range) => {
  dispatch({ type: "gap", range });
  loadChartData();
});
feed.on("heartbeat", () => dispatch({ type: "heartbeat", nowMs: Date.now() }));
feed.on("replay", ({ count }) => dispatch({ type: "replay", count }));
feed.on("status", (status) => dispatch({ type: "status", status, nowMs: Date.now() }));
feed.on("subscribed", (currencies) => dispatch({ type: "subscribed", currencies }));
feed.on("reset", () => {
  dispatch({ type: "reset" });
  loadChartData();
});
feed.on("error", ({ code, message }) => dispatch({ type: "server_error", code, message }));

// ---- view -----------------------------------------------------------------------------

const view = createView({
  open: () => (feed.state === "reconnecting" ? feed.retryNow() : feed.start()),
  close: () => feed.close(),
  toggleCurrency(currency, on) {
    if (on) feed.subscribe([currency]);
    else if (state.wanted.length > 1) feed.unsubscribe([currency]);
    // Its figures go stale while it is away: added again, it is asked about at once.
    if (!on) statsAsked.delete(currency);
    dispatch({ type: "select", currencies: feed.currencies });
    if (on) {
      void loadHistory(currency);
      if (!refreshDayFigures() && !state.prices[currency]) void loadSnapshot([currency]);
    }
    loadChartData();
    scheduleRender();
  },
  focus(currency) {
    dispatch({ type: "focus", currency });
    loadChartData();
  },
  setRange(range) {
    dispatch({ type: "range", range });
    loadChartData();
  },
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

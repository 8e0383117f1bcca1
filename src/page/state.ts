/**
 * The page's view state and the pure reducer that folds the client library's events, HTTP results
 * and user actions into it. The DOM code renders a ViewState; the controller (main.ts) performs
 * the side effects (the feed, timers, storage). Unit-tested in the workers pool.
 */
import { SUPPORTED_CURRENCIES, type Candle, type Currency, type Dispute } from "../protocol";
import type { ConnectionState as LinkState, FeedStatus, GapRange, PriceTick, WelcomeInfo } from "../sdk";
import { DAY_INTERVAL_MS, dayWindow, mergePrice, trimCandles, withLivePrices } from "./candles";
import { parseRange, type ChartRange } from "./chart-range";
import { mergeSeries, trimSeries, type ChartPoint } from "./chart-scale";
import { adoptStats, foldPrice, forgetSeqs, fromStats, type DayFigures } from "./day-figures";
import { tickMs, type PriceSnapshot } from "./frames";

/** What the status pill shows: the connection, and once open, whether the feed is stale. */
export type ConnectionState = "connecting" | "live" | "stale" | "reconnecting" | "closed";

export const CHART_WINDOW_MS = 3_600_000;
export const TICK_LOG_SIZE = 12;

export interface CurrencyView {
  price: number;
  /** Price in the previous tick this page saw for the currency; null for the first one. */
  previous: number | null;
  /** price − previous, null when there is no previous. */
  change: number | null;
  seq: number;
  /** ISO instant of the tick. */
  time: string;
  replayed: boolean;
  /** The value came from GET /api/price, not from the socket. */
  fromSnapshot: boolean;
  /** Set only when this currency's price came from other sources than the tick's (e.g. one exchange). */
  sources: string[] | null;
}

export interface TickRow {
  seq: number;
  time: string;
  prices: Partial<Record<Currency, number>>;
  replayed: boolean;
}

export interface MissedNotice {
  /** Replayed ticks of the last replay. */
  count: number;
  gaps: GapRange[];
  /** The server's history was reset: what came before cannot be replayed. */
  reset: boolean;
}

export interface ViewState {
  /** Derived from `link` and `staleSince`. */
  connection: ConnectionState;
  /** The client library's connection state. */
  link: LinkState;
  clientId: string | null;
  intervalMs: number | null;
  /** What the user picked (persisted). */
  wanted: Currency[];
  /** The open socket's set as the server last confirmed it (welcome / subscribed); null while not connected. */
  confirmed: Currency[] | null;
  focus: Currency;
  /** The chart's range (persisted). */
  range: ChartRange;
  prices: Partial<Record<Currency, CurrencyView>>;
  series: Partial<Record<Currency, ChartPoint[]>>;
  historyLoaded: Partial<Record<Currency, boolean>>;
  /** The 24-hour figures of the cards; absent where the server had none (or has not answered yet). */
  day: Partial<Record<Currency, DayFigures>>;
  /** The 24-hour chart's candles (DAY_INTERVAL), time-ordered; live prices keep the loaded ones current. */
  candles: Partial<Record<Currency, Candle[]>>;
  candlesLoaded: Partial<Record<Currency, boolean>>;
  ticks: TickRow[];
  lastSeq: number | null;
  sources: string[];
  /** From the feed's status (one at a time: stale, disputed or live). */
  staleSince: number | null;
  /** Currencies the feed holds back because their sources disagree. */
  disputed: { sinceMs: number; disputes: Dispute[] } | null;
  /** A replay was asked for and has not ended yet. */
  replaying: boolean;
  missed: MissedNotice | null;
  error: { code: string; message: string } | null;
  /** Failed connection attempts since the last stable connection. */
  attempt: number;
  retryAt: number | null;
  /** When the last heartbeat said the feed is alive with nothing new; null once a price came or the link dropped. */
  aliveAtMs: number | null;
}

export type ViewEvent =
  /** The library's connection state; `resuming` when an attempt starts with a last_seq. */
  | { type: "link"; state: LinkState; attempt: number; retryAt: number | null; resuming: boolean }
  | { type: "welcome"; info: WelcomeInfo }
  | { type: "price"; tick: PriceTick; nowMs: number }
  | { type: "gap"; range: GapRange }
  | { type: "replay"; count: number }
  | { type: "status"; status: FeedStatus; nowMs: number }
  | { type: "subscribed"; currencies: Currency[] }
  | { type: "reset" }
  | { type: "server_error"; code: string; message: string }
  | { type: "select"; currencies: Currency[] }
  | { type: "focus"; currency: Currency }
  | { type: "range"; range: ChartRange }
  | { type: "candles"; currency: Currency; candles: Candle[]; nowMs: number }
  | { type: "history"; currency: Currency; points: ChartPoint[]; nowMs: number }
  | { type: "snapshot"; snapshot: PriceSnapshot }
  | { type: "heartbeat"; nowMs: number }
  | { type: "clock"; nowMs: number }
  | { type: "dismiss_missed" }
  | { type: "dismiss_error" };

export interface Persisted {
  clientId: string | null;
  lastSeq: number | null;
  currencies: Currency[];
  focus: Currency | null;
  range: ChartRange | null;
}

export function initialState(saved: Partial<Persisted> = {}): ViewState {
  const wanted = saved.currencies && saved.currencies.length > 0 ? [...saved.currencies] : ["USD" as Currency];
  const focus = saved.focus && wanted.includes(saved.focus) ? saved.focus : wanted[0]!;
  return {
    connection: "closed",
    link: "closed",
    clientId: saved.clientId ?? null,
    intervalMs: null,
    wanted,
    confirmed: null,
    focus,
    range: parseRange(saved.range),
    prices: {},
    series: {},
    historyLoaded: {},
    day: {},
    candles: {},
    candlesLoaded: {},
    ticks: [],
    lastSeq: saved.lastSeq ?? null,
    sources: [],
    staleSince: null,
    disputed: null,
    replaying: false,
    missed: null,
    error: null,
    attempt: 0,
    retryAt: null,
    aliveAtMs: null,
  };
}

/** Keeps the supported order (USD, EUR, GBP, …) whatever order they were clicked in. */
export function sortCurrencies(list: readonly Currency[]): Currency[] {
  return SUPPORTED_CURRENCIES.filter((c) => list.includes(c));
}

/** The pill: the connection while not open; once open, live or stale. */
export function connectionOf(link: LinkState, staleSince: number | null): ConnectionState {
  if (link !== "open") return link;
  return staleSince !== null ? "stale" : "live";
}

function applyStatus(state: ViewState, status: FeedStatus, nowMs: number): ViewState {
  const since = (s: number) => (s > 0 ? (s < 1e12 ? s * 1000 : s) : nowMs);
  const staleSince = status.state === "stale" ? since(status.since) : null;
  const disputed = status.state === "disputed" ? { sinceMs: since(status.since), disputes: status.disputes } : null;
  return { ...state, staleSince, disputed, connection: connectionOf(state.link, staleSince) };
}

function applyPrice(state: ViewState, msg: PriceTick, nowMs: number): ViewState {
  const t = tickMs(msg.time, msg.ts);
  const prices = { ...state.prices };
  const series = { ...state.series };
  const day = { ...state.day };
  const candles = { ...state.candles };
  for (const c of SUPPORTED_CURRENCIES) {
    const price = msg.prices[c];
    if (price === undefined) continue;
    const old = prices[c];
    // The library delivers each seq once, in order; a snapshot from /api/price of the same tick is no "previous".
    const previous = old && !(old.fromSnapshot && msg.seq <= old.seq) ? old.price : null;
    prices[c] = {
      price,
      previous,
      change: previous === null ? null : price - previous,
      seq: msg.seq,
      time: msg.time,
      replayed: msg.replayed,
      fromSnapshot: false,
      sources: msg.sourcesByCurrency?.[c] ?? null,
    };
    const figures = day[c];
    if (figures) day[c] = foldPrice(figures, msg.seq, price);
    if (Number.isFinite(t)) {
      series[c] = trimSeries(
        mergeSeries(series[c] ?? [], [{ seq: msg.seq, t, price, replayed: msg.replayed }]),
        nowMs - CHART_WINDOW_MS,
      );
      // Before its candles load, the hour of ticks in `series` holds what they will need.
      const loaded = candles[c];
      if (loaded && state.candlesLoaded[c]) {
        candles[c] = trimCandles(mergePrice(loaded, t, price, DAY_INTERVAL_MS), dayWindow(nowMs)[0], DAY_INTERVAL_MS);
      }
    }
  }
  const ticks = [{ seq: msg.seq, time: msg.time, prices: msg.prices, replayed: msg.replayed }, ...state.ticks].slice(
    0,
    TICK_LOG_SIZE,
  );
  return {
    ...state,
    prices,
    series,
    day,
    candles,
    ticks,
    lastSeq: msg.seq,
    sources: msg.sources.length > 0 ? msg.sources : state.sources,
  };
}

function mapValues<T>(record: Partial<Record<Currency, T>>, f: (value: T) => T): Partial<Record<Currency, T>> {
  const out: Partial<Record<Currency, T>> = {};
  for (const c of SUPPORTED_CURRENCIES) {
    const value = record[c];
    if (value !== undefined) out[c] = f(value);
  }
  return out;
}

/** The 24-hour figures of a /api/price answer, with the prices this page saw after its tick folded in. */
function applyDayStats(state: ViewState, snapshot: PriceSnapshot): ViewState["day"] {
  let day = state.day;
  for (const c of SUPPORTED_CURRENCIES) {
    const stats = snapshot.stats[c];
    if (!stats) continue;
    const price = snapshot.prices[c] ?? stats.open + stats.change;
    const later = (state.series[c] ?? []).filter((p) => p.seq > snapshot.seq);
    const next = adoptStats(day[c], fromStats(stats, snapshot.seq, price), later);
    if (next !== day[c]) day = { ...day, [c]: next };
  }
  return day;
}

function missed(state: ViewState, change: Partial<MissedNotice>): MissedNotice {
  return {
    count: state.missed?.count ?? 0,
    gaps: state.missed?.gaps ?? [],
    reset: state.missed?.reset ?? false,
    ...change,
  };
}

export function reduce(state: ViewState, event: ViewEvent): ViewState {
  switch (event.type) {
    case "link": {
      const starting = event.state === "connecting" || (event.state === "reconnecting" && event.retryAt === null);
      return {
        ...state,
        link: event.state,
        connection: connectionOf(event.state, state.staleSince),
        confirmed: event.state === "open" ? state.confirmed : null,
        attempt: event.attempt,
        retryAt: event.retryAt,
        replaying: starting ? event.resuming : event.state === "open" ? state.replaying : false,
        aliveAtMs: event.state === "open" ? state.aliveAtMs : null,
      };
    }
    case "welcome":
      return {
        ...state,
        clientId: event.info.clientId,
        intervalMs: event.info.intervalMs,
        confirmed: sortCurrencies(event.info.currencies),
        error: null,
      };
    case "price":
      return { ...applyPrice(state, event.tick, event.nowMs), aliveAtMs: null };
    case "heartbeat":
      return { ...state, aliveAtMs: event.nowMs };
    case "replay":
      return {
        ...state,
        replaying: false,
        // A replay with nothing in it leaves an earlier notice (and any gap) as it was.
        missed: event.count > 0 ? missed(state, { count: event.count }) : state.missed,
      };
    case "gap":
      // Prices the candles will never see: they stay on show, and are asked for again.
      return {
        ...state,
        candlesLoaded: {},
        missed: missed(state, { gaps: [...(state.missed?.gaps ?? []), event.range].slice(-5) }),
      };
    case "status":
      return applyStatus(state, event.status, event.nowMs);
    case "subscribed":
      return { ...state, confirmed: sortCurrencies(event.currencies) };
    case "reset":
      // seq numbers restart with the new epoch: the next price starts the count again.
      return {
        ...state,
        lastSeq: null,
        day: mapValues(state.day, forgetSeqs),
        candlesLoaded: {},
        missed: missed(state, { reset: true }),
      };
    case "server_error":
      return { ...state, error: { code: event.code, message: event.message } };
    case "select": {
      const wanted = sortCurrencies(event.currencies);
      if (wanted.length === 0) return state;
      return { ...state, wanted, focus: wanted.includes(state.focus) ? state.focus : wanted[0]! };
    }
    case "focus":
      return state.wanted.includes(event.currency) ? { ...state, focus: event.currency } : state;
    case "range":
      return event.range === state.range ? state : { ...state, range: event.range };
    case "candles": {
      const live = state.series[event.currency] ?? [];
      const candles = trimCandles(
        withLivePrices(event.candles, live, DAY_INTERVAL_MS),
        dayWindow(event.nowMs)[0],
        DAY_INTERVAL_MS,
      );
      return {
        ...state,
        candles: { ...state.candles, [event.currency]: candles },
        candlesLoaded: { ...state.candlesLoaded, [event.currency]: true },
      };
    }
    case "history": {
      const merged = mergeSeries(event.points, state.series[event.currency] ?? []);
      return {
        ...state,
        series: { ...state.series, [event.currency]: trimSeries(merged, event.nowMs - CHART_WINDOW_MS) },
        historyLoaded: { ...state.historyLoaded, [event.currency]: true },
      };
    }
    case "snapshot": {
      // Fills currencies the socket has not priced yet (e.g. one just added); never overrides a socket price.
      const prices = { ...state.prices };
      const day = applyDayStats(state, event.snapshot);
      let changed = day !== state.day;
      for (const c of SUPPORTED_CURRENCIES) {
        const price = event.snapshot.prices[c];
        if (price === undefined || prices[c]) continue;
        prices[c] = {
          price,
          previous: null,
          change: null,
          seq: event.snapshot.seq,
          time: event.snapshot.time,
          replayed: false,
          fromSnapshot: true,
          sources: null,
        };
        changed = true;
      }
      return changed ? { ...state, prices, day } : state;
    }
    case "clock": {
      const from = event.nowMs - CHART_WINDOW_MS;
      let changed = false;
      const series: ViewState["series"] = {};
      for (const c of SUPPORTED_CURRENCIES) {
        const s = state.series[c];
        if (!s) continue;
        const trimmed = trimSeries(s, from);
        if (trimmed.length !== s.length) changed = true;
        series[c] = trimmed;
      }
      const candles = mapValues(state.candles, (list) => trimCandles(list, dayWindow(event.nowMs)[0], DAY_INTERVAL_MS));
      const candlesChanged = SUPPORTED_CURRENCIES.some((c) => candles[c] !== state.candles[c]);
      if (!changed && !candlesChanged) return state;
      return { ...state, series: changed ? series : state.series, candles: candlesChanged ? candles : state.candles };
    }
    case "dismiss_missed":
      return { ...state, missed: null };
    case "dismiss_error":
      return { ...state, error: null };
  }
}

/** The disputes about currencies the user watches; the others are none of this page's business. */
export function watchedDisputes(state: ViewState): Dispute[] {
  return state.disputed?.disputes.filter((d) => state.wanted.includes(d.currency)) ?? [];
}

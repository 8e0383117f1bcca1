/**
 * The page's view state and the pure reducer that folds the client library's events, HTTP results
 * and user actions into it. The DOM code renders a ViewState; the controller (main.ts) performs
 * the side effects (the feed, timers, storage). Unit-tested in the workers pool.
 */
import { SUPPORTED_CURRENCIES, type Currency } from "../protocol";
import type { ConnectionState as LinkState, FeedStatus, GapRange, PriceTick, WelcomeInfo } from "../sdk";
import { mergeSeries, trimSeries, type ChartPoint } from "./chart-scale";
import { tickMs, type PriceSnapshot } from "./frames";

/** What the status pill shows: the connection, and once open, the feed's health. */
export type ConnectionState = "connecting" | "live" | "stale" | "disputed" | "reconnecting" | "closed";

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
  /** Derived from `link` and `status`. */
  connection: ConnectionState;
  /** The client library's connection state. */
  link: LinkState;
  /** The feed's health as the server last stated it; null: nothing said (live). */
  status: FeedStatus | null;
  clientId: string | null;
  intervalMs: number | null;
  /** What the user picked (persisted). */
  wanted: Currency[];
  /** The open socket's set as the server last confirmed it (welcome / subscribed); null while not connected. */
  confirmed: Currency[] | null;
  focus: Currency;
  prices: Partial<Record<Currency, CurrencyView>>;
  series: Partial<Record<Currency, ChartPoint[]>>;
  historyLoaded: Partial<Record<Currency, boolean>>;
  ticks: TickRow[];
  lastSeq: number | null;
  sources: string[];
  /** A replay was asked for and has not ended yet. */
  replaying: boolean;
  missed: MissedNotice | null;
  error: { code: string; message: string } | null;
  /** Failed connection attempts since the last stable connection. */
  attempt: number;
  retryAt: number | null;
}

export type ViewEvent =
  /** The library's connection state; `resuming` when an attempt starts with a last_seq. */
  | { type: "link"; state: LinkState; attempt: number; retryAt: number | null; resuming: boolean }
  | { type: "welcome"; info: WelcomeInfo }
  | { type: "price"; tick: PriceTick; nowMs: number }
  | { type: "gap"; range: GapRange }
  | { type: "replay"; count: number }
  | { type: "status"; status: FeedStatus }
  | { type: "subscribed"; currencies: Currency[] }
  | { type: "reset" }
  | { type: "server_error"; code: string; message: string }
  | { type: "select"; currencies: Currency[] }
  | { type: "focus"; currency: Currency }
  | { type: "history"; currency: Currency; points: ChartPoint[]; nowMs: number }
  | { type: "snapshot"; snapshot: PriceSnapshot }
  | { type: "clock"; nowMs: number }
  | { type: "dismiss_missed" }
  | { type: "dismiss_error" };

export interface Persisted {
  clientId: string | null;
  lastSeq: number | null;
  currencies: Currency[];
  focus: Currency | null;
}

export function initialState(saved: Partial<Persisted> = {}): ViewState {
  const wanted = saved.currencies && saved.currencies.length > 0 ? [...saved.currencies] : ["USD" as Currency];
  const focus = saved.focus && wanted.includes(saved.focus) ? saved.focus : wanted[0]!;
  return {
    connection: "closed",
    link: "closed",
    status: null,
    clientId: saved.clientId ?? null,
    intervalMs: null,
    wanted,
    confirmed: null,
    focus,
    prices: {},
    series: {},
    historyLoaded: {},
    ticks: [],
    lastSeq: saved.lastSeq ?? null,
    sources: [],
    replaying: false,
    missed: null,
    error: null,
    attempt: 0,
    retryAt: null,
  };
}

/** Keeps the supported order (USD, EUR, GBP, …) whatever order they were clicked in. */
export function sortCurrencies(list: readonly Currency[]): Currency[] {
  return SUPPORTED_CURRENCIES.filter((c) => list.includes(c));
}

/** The pill: the connection while not open; once open, the feed's health. */
export function connectionOf(link: LinkState, status: FeedStatus | null): ConnectionState {
  if (link !== "open") return link;
  return status?.state === "stale" || status?.state === "disputed" ? status.state : "live";
}

function withLink(state: ViewState, link: LinkState, status: FeedStatus | null): ViewState {
  return { ...state, link, status, connection: connectionOf(link, status) };
}

function applyPrice(state: ViewState, msg: PriceTick, nowMs: number): ViewState {
  const t = tickMs(msg.time, msg.ts);
  const prices = { ...state.prices };
  const series = { ...state.series };
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
    };
    if (Number.isFinite(t)) {
      series[c] = trimSeries(
        mergeSeries(series[c] ?? [], [{ seq: msg.seq, t, price, replayed: msg.replayed }]),
        nowMs - CHART_WINDOW_MS,
      );
    }
  }
  const ticks = [{ seq: msg.seq, time: msg.time, prices: msg.prices, replayed: msg.replayed }, ...state.ticks].slice(0, TICK_LOG_SIZE);
  return {
    ...state,
    prices,
    series,
    ticks,
    lastSeq: msg.seq,
    sources: msg.sources.length > 0 ? msg.sources : state.sources,
  };
}

function missed(state: ViewState, change: Partial<MissedNotice>): MissedNotice {
  return { count: state.missed?.count ?? 0, gaps: state.missed?.gaps ?? [], reset: state.missed?.reset ?? false, ...change };
}

export function reduce(state: ViewState, event: ViewEvent): ViewState {
  switch (event.type) {
    case "link": {
      const starting = event.state === "connecting" || (event.state === "reconnecting" && event.retryAt === null);
      const next = withLink(state, event.state, state.status);
      return {
        ...next,
        confirmed: event.state === "open" ? state.confirmed : null,
        attempt: event.attempt,
        retryAt: event.retryAt,
        replaying: starting ? event.resuming : event.state === "open" ? state.replaying : false,
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
      return applyPrice(state, event.tick, event.nowMs);
    case "replay":
      return {
        ...state,
        replaying: false,
        // A replay with nothing in it leaves an earlier notice (and any gap) as it was.
        missed: event.count > 0 ? missed(state, { count: event.count }) : state.missed,
      };
    case "gap":
      return { ...state, missed: missed(state, { gaps: [...(state.missed?.gaps ?? []), event.range].slice(-5) }) };
    case "status":
      return withLink(state, state.link, event.status);
    case "subscribed":
      return { ...state, confirmed: sortCurrencies(event.currencies) };
    case "reset":
      // seq numbers restart with the new epoch: the next price starts the count again.
      return { ...state, lastSeq: null, missed: missed(state, { reset: true }) };
    case "server_error":
      return { ...state, error: { code: event.code, message: event.message } };
    case "select": {
      const wanted = sortCurrencies(event.currencies);
      if (wanted.length === 0) return state;
      return { ...state, wanted, focus: wanted.includes(state.focus) ? state.focus : wanted[0]! };
    }
    case "focus":
      return state.wanted.includes(event.currency) ? { ...state, focus: event.currency } : state;
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
      let changed = false;
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
        };
        changed = true;
      }
      return changed ? { ...state, prices } : state;
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
      return changed ? { ...state, series } : state;
    }
    case "dismiss_missed":
      return { ...state, missed: null };
    case "dismiss_error":
      return { ...state, error: null };
  }
}

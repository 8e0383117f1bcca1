/**
 * The page's view state and the pure reducer that folds socket frames, HTTP results and
 * user actions into it. The DOM code renders a ViewState; the controller performs the
 * side effects (socket, timers, storage). Unit-tested in the workers pool.
 */
import {
  SUPPORTED_CURRENCIES,
  type ClientMessage,
  type Currency,
  type Dispute,
  type ServerMessage,
} from "../protocol";
import { mergeSeries, trimSeries, type ChartPoint } from "./chart-scale";
import { tickMs, type PriceSnapshot } from "./frames";

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
  /** From replay_end. */
  count: number;
  gaps: { fromSeq: number; toSeq: number }[];
}

export interface ViewState {
  connection: ConnectionState;
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
  staleSince: number | null;
  /** Currencies the feed holds back because their sources disagree, from the last status frame. */
  disputed: { sinceMs: number; disputes: Dispute[] } | null;
  /** A replay was asked for and replay_end has not arrived yet. */
  replaying: boolean;
  /** Replayed frames received in the current replay. */
  replayReceived: number;
  missed: MissedNotice | null;
  error: { code: string; message: string } | null;
  /** Failed connection attempts since the last welcome. */
  attempt: number;
  retryAt: number | null;
}

export type ViewEvent =
  /** A socket is being opened; `replay` when it asks for one (client_id known + last_seq). */
  | { type: "connecting"; replay: boolean }
  | { type: "frame"; msg: ServerMessage; nowMs: number }
  /** The socket went away; retryAt null means no automatic retry (closed by the user). */
  | { type: "disconnected"; retryAt: number | null }
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
    staleSince: null,
    disputed: null,
    replaying: false,
    replayReceived: 0,
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

/**
 * The frames that take the socket from `current` to `wanted`: at most one subscribe and
 * one unsubscribe. Subscribing first means the socket never has an empty set.
 */
export function subscriptionDiff(wanted: readonly Currency[], current: readonly Currency[]): ClientMessage[] {
  const add = wanted.filter((c) => !current.includes(c));
  const remove = current.filter((c) => !wanted.includes(c));
  const out: ClientMessage[] = [];
  if (add.length > 0) out.push({ type: "subscribe", currencies: add });
  if (remove.length > 0) out.push({ type: "unsubscribe", currencies: remove });
  return out;
}

function applyPrice(state: ViewState, msg: Extract<ServerMessage, { type: "price" }>, nowMs: number): ViewState {
  const t = tickMs(msg.time, msg.ts);
  const prices = { ...state.prices };
  const series = { ...state.series };
  let applied = false;
  for (const c of SUPPORTED_CURRENCIES) {
    const price = msg.prices[c];
    if (price === undefined) continue;
    const old = prices[c];
    if (old && !old.fromSnapshot) {
      // The same tick again (the snapshot after an empty replay) or an older replayed one.
      if (msg.seq === old.seq) continue;
      if (msg.seq < old.seq && msg.replayed) continue;
      // A live seq going backwards means the server's history was reset: accept it.
    }
    // A snapshot of the same tick is no "previous": the change would read 0.
    const previous = old && !(old.fromSnapshot && msg.seq <= old.seq) ? old.price : null;
    prices[c] = {
      price,
      previous,
      change: previous === null ? null : price - previous,
      seq: msg.seq,
      time: msg.time,
      replayed: msg.replayed,
      fromSnapshot: false,
      sources: msg.sources_by_currency?.[c] ?? null,
    };
    if (Number.isFinite(t)) {
      series[c] = trimSeries(
        mergeSeries(series[c] ?? [], [{ seq: msg.seq, t, price, replayed: msg.replayed }]),
        nowMs - CHART_WINDOW_MS,
      );
    }
    applied = true;
  }
  const duplicate = !applied && state.ticks.some((r) => r.seq === msg.seq);
  const ticks = duplicate
    ? state.ticks
    : [{ seq: msg.seq, time: msg.time, prices: msg.prices, replayed: msg.replayed }, ...state.ticks].slice(0, TICK_LOG_SIZE);
  const live = !msg.replayed && state.connection === "stale" ? "live" : state.connection;
  return {
    ...state,
    prices,
    series,
    ticks,
    lastSeq: msg.seq,
    sources: msg.sources.length > 0 ? msg.sources : state.sources,
    replayReceived: msg.replayed ? state.replayReceived + 1 : state.replayReceived,
    connection: live,
    staleSince: live === "live" ? null : state.staleSince,
  };
}

function applyFrame(state: ViewState, msg: ServerMessage, nowMs: number): ViewState {
  switch (msg.type) {
    case "welcome":
      return {
        ...state,
        connection: "live",
        replaying: state.replaying || msg.resumed,
        clientId: msg.client_id,
        intervalMs: msg.interval_ms,
        confirmed: sortCurrencies(msg.currencies),
        attempt: 0,
        retryAt: null,
        staleSince: null,
        // The server follows the snapshot with the feed's status when it is not live.
        disputed: null,
        error: null,
      };
    case "price":
      return applyPrice(state, msg, nowMs);
    case "replay_end":
      return {
        ...state,
        replaying: false,
        replayReceived: 0,
        // A replay with nothing in it leaves an earlier notice (and any gap) as it was.
        missed: msg.count > 0 ? { count: msg.count, gaps: state.missed?.gaps ?? [] } : state.missed,
      };
    case "gap": {
      const gaps = [...(state.missed?.gaps ?? []), { fromSeq: msg.from_seq, toSeq: msg.to_seq }].slice(-5);
      return { ...state, missed: { count: state.missed?.count ?? 0, gaps } };
    }
    case "subscribed":
      return { ...state, confirmed: sortCurrencies(msg.currencies) };
    case "status": {
      // One state at a time: stale (no quotes at all), disputed (some currencies held back) or live.
      const since = (s: number) => (s > 0 ? (s < 1e12 ? s * 1000 : s) : nowMs);
      if (msg.state === "stale") {
        return {
          ...state,
          connection: state.connection === "live" || state.connection === "stale" ? "stale" : state.connection,
          staleSince: since(msg.since),
          disputed: null,
        };
      }
      return {
        ...state,
        connection: state.connection === "stale" ? "live" : state.connection,
        staleSince: null,
        disputed: msg.state === "disputed" ? { sinceMs: since(msg.since), disputes: msg.disputes } : null,
      };
    }
    case "reset":
      // seq numbers restart with the new epoch: the next price starts the count again.
      return { ...state, lastSeq: null };
    case "error":
      return { ...state, error: { code: msg.code, message: msg.message } };
  }
}

export function reduce(state: ViewState, event: ViewEvent): ViewState {
  switch (event.type) {
    case "connecting":
      return {
        ...state,
        connection: state.attempt > 0 ? "reconnecting" : "connecting",
        confirmed: null,
        retryAt: null,
        replaying: event.replay,
        replayReceived: 0,
      };
    case "frame":
      return applyFrame(state, event.msg, event.nowMs);
    case "disconnected":
      return {
        ...state,
        connection: event.retryAt === null ? "closed" : "reconnecting",
        confirmed: null,
        attempt: event.retryAt === null ? 0 : state.attempt + 1,
        retryAt: event.retryAt,
        replaying: false,
        replayReceived: 0,
        staleSince: null,
        disputed: null,
      };
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
          sources: null,
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

/** The disputes about currencies the user watches; the others are none of this page's business. */
export function watchedDisputes(state: ViewState): Dispute[] {
  return state.disputed?.disputes.filter((d) => state.wanted.includes(d.currency)) ?? [];
}

/**
 * A fake of the four upstream price APIs, answering in their real shapes, with fault modes per
 * source. One pure handler `(state, request) => Promise<Response>` serves it all; it runs in workerd
 * (tests) and in Node 22 (scripts/fake-upstream.ts, which runs this file with type stripping), so
 * this file imports nothing and uses only erasable TypeScript.
 *
 * Routing: by host (coinbase.test, kraken.test, bitstamp.test, coindesk.test) or by path prefix
 * (/coinbase, /kraken, /bitstamp, /coindesk), so one loopback server can stand in for all four.
 */

export type UpstreamName = "coinbase" | "kraken" | "bitstamp" | "coindesk";
export const UPSTREAM_NAMES: readonly UpstreamName[] = ["coinbase", "kraken", "bitstamp", "coindesk"];

export type FaultMode =
  | "ok"
  | "timeout" // never answers until the request's signal aborts
  | "refused" // rejects with a TypeError, as fetch does on a network failure
  | "500"
  | "429" // with Retry-After: state.retryAfterS
  | "malformed" // truncated JSON
  | "html" // an HTML page with status 200 (CDN or captive-portal style)
  | "zero"
  | "negative"
  | "nan"
  | "outlier10x"
  | "kraken_error" // HTTP 200 with the source's own error body (Kraken's `error` array, and the like)
  | "401"
  | "frozen" // HTTP 200, but the quote is dated FROZEN_FOR_S ago (only bitstamp and coindesk date theirs)
  | "stuck"; // HTTP 200, dated now, but the same quote as its last answer (a cached answer), however the price moves

export const FAULT_MODES: readonly FaultMode[] = [
  "ok",
  "timeout",
  "refused",
  "500",
  "429",
  "malformed",
  "html",
  "zero",
  "negative",
  "nan",
  "outlier10x",
  "kraken_error",
  "401",
  "frozen",
  "stuck",
];

/** How far back a "frozen" upstream dates its quote. */
export const FROZEN_FOR_S = 600;

export interface FakeUpstreamState {
  /** BTC in USD; other currencies follow through fxPerUsd. */
  priceUsd: number;
  fxPerUsd: Record<string, number>;
  /** Per-source deviation from the price in percent, so that sources differ as real ones do. */
  offsetPct: Record<UpstreamName, number>;
  modes: Record<UpstreamName, FaultMode>;
  retryAfterS: number;
  requests: Record<UpstreamName, number>;
  /** The price (USD) behind each source's last answer: what a "stuck" source keeps quoting. */
  servedUsd: Record<UpstreamName, number | null>;
  /** The upstreams' clock, for the dates they put on quotes (tests pass their fake clock). */
  now: () => number;
}

export interface FakeUpstreamInit {
  priceUsd?: number;
  offsetPct?: Partial<Record<UpstreamName, number>>;
  modes?: Partial<Record<UpstreamName, FaultMode>>;
  retryAfterS?: number;
  now?: () => number;
}

export const FAKE_FX_PER_USD: Record<string, number> = {
  USD: 1,
  EUR: 0.9,
  GBP: 0.8,
  JPY: 150,
  CAD: 1.4,
  CHF: 0.875,
  AUD: 1.5,
};

const perSource = <T>(value: T): Record<UpstreamName, T> => ({
  coinbase: value,
  kraken: value,
  bitstamp: value,
  coindesk: value,
});

export function createFakeUpstreamState(init: FakeUpstreamInit = {}): FakeUpstreamState {
  return {
    priceUsd: init.priceUsd ?? 100_000,
    fxPerUsd: { ...FAKE_FX_PER_USD },
    offsetPct: { ...perSource(0), ...init.offsetPct },
    modes: { ...perSource<FaultMode>("ok"), ...init.modes },
    retryAfterS: init.retryAfterS ?? 30,
    requests: perSource(0),
    servedUsd: perSource<number | null>(null),
    now: init.now ?? (() => Date.now()),
  };
}

/** The unix time (s) a source puts on its quote: now, or FROZEN_FOR_S ago when it is frozen. */
function quotedAt(state: FakeUpstreamState, source: UpstreamName): number {
  return Math.floor(state.now() / 1000) - (state.modes[source] === "frozen" ? FROZEN_FOR_S : 0);
}

export function isUpstreamName(value: string): value is UpstreamName {
  return (UPSTREAM_NAMES as readonly string[]).includes(value);
}

export function isFaultMode(value: unknown): value is FaultMode {
  return typeof value === "string" && (FAULT_MODES as readonly string[]).includes(value);
}

/** Which fake a URL is for, and the upstream's own path. */
export function routeUpstream(url: URL): { source: UpstreamName; path: string } | null {
  const host = url.hostname.toLowerCase();
  if (host.endsWith(".test")) {
    const name = host.slice(0, -".test".length);
    return isUpstreamName(name) ? { source: name, path: url.pathname } : null;
  }
  const match = /^\/([a-z]+)(\/.*)?$/.exec(url.pathname);
  if (match && isUpstreamName(match[1]!)) return { source: match[1], path: match[2] ?? "/" };
  return null;
}

/** The BTC price in USD a source answers with now: the market's, or a stuck source's last one. */
function answeredUsd(state: FakeUpstreamState, source: UpstreamName): number {
  return state.modes[source] === "stuck" ? (state.servedUsd[source] ?? state.priceUsd) : state.priceUsd;
}

/** The price a source quotes for a currency, after its offset and fault mode. */
export function fakeQuote(state: FakeUpstreamState, source: UpstreamName, currency: string): number {
  const fx = state.fxPerUsd[currency];
  if (fx === undefined) return NaN;
  const price = answeredUsd(state, source) * fx * (1 + state.offsetPct[source] / 100);
  switch (state.modes[source]) {
    case "zero":
      return 0;
    case "negative":
      return -price;
    case "nan":
      return NaN;
    case "outlier10x":
      return price * 10;
    default:
      return price;
  }
}

const decimal = (n: number, digits: number): string => (Number.isNaN(n) ? "NaN" : n.toFixed(digits));

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}

const HTML_PAGE =
  "<!DOCTYPE html><html><head><title>Attention Required</title></head>" +
  "<body><h1>Sorry, you have been blocked</h1></body></html>";

/** Each source's own way of saying "error" inside an HTTP 200, or with a 401. */
function nativeError(source: UpstreamName, message: string, status: number): Response {
  switch (source) {
    case "kraken":
      return json({ error: [status === 401 ? "EAPI:Invalid key" : `EService:${message}`] }, status);
    case "coinbase":
      return json(
        { errors: [{ id: status === 401 ? "authentication_error" : "internal_server_error", message }] },
        status,
      );
    case "bitstamp":
      return json({ status: "error", reason: message, code: status === 401 ? "API0001" : "API5000" }, status);
    case "coindesk":
      return json({ Data: {}, Err: { type: status === 401 ? 1 : 99, message } }, status);
  }
}

function waitForAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/**
 * Answers one request as the matching upstream would in its current mode. `signal` defaults to the
 * request's own; it is a separate argument because a runtime may not carry `init.signal` into Request.
 */
export async function handleFakeUpstream(
  state: FakeUpstreamState,
  request: Request,
  signal: AbortSignal = request.signal,
): Promise<Response> {
  const url = new URL(request.url);
  const route = routeUpstream(url);
  if (!route) return json({ error: "no fake upstream here" }, 404);
  const { source, path } = route;
  state.requests[source] += 1;
  if (request.method !== "GET") return json({ error: "method not allowed" }, 405);

  switch (state.modes[source]) {
    case "timeout":
      return waitForAbort(signal);
    case "refused":
      throw new TypeError(`fetch failed: connect ECONNREFUSED (fake ${source})`);
    case "500":
      return new Response("Internal Server Error", { status: 500, headers: { "Content-Type": "text/plain" } });
    case "429":
      return json({ error: "rate limited" }, 429, { "Retry-After": String(state.retryAfterS) });
    case "malformed":
      return new Response('{"data":{"rates":{"USD":"1000', { headers: { "Content-Type": "application/json" } });
    case "html":
      return new Response(HTML_PAGE, { headers: { "Content-Type": "text/html; charset=UTF-8" } });
    case "kraken_error":
      return nativeError(source, "Unavailable", 200);
    case "401":
      return nativeError(source, "invalid or missing API key", 401);
    default:
      break;
  }

  state.servedUsd[source] = answeredUsd(state, source);
  switch (source) {
    case "coinbase":
      return coinbaseAnswer(state, path, url);
    case "kraken":
      return krakenAnswer(state, path, url);
    case "bitstamp":
      return bitstampAnswer(state, path);
    case "coindesk":
      return coindeskAnswer(state, path, url, request.headers.get("Authorization"));
  }
}

function coinbaseAnswer(state: FakeUpstreamState, path: string, url: URL): Response {
  if (path !== "/v2/exchange-rates") return json({ errors: [{ id: "not_found", message: "Not found" }] }, 404);
  const base = (url.searchParams.get("currency") ?? "USD").toUpperCase();
  if (base !== "BTC") return json({ errors: [{ id: "invalid_request", message: "fake supports BTC only" }] }, 400);
  const rates: Record<string, string> = {};
  for (const currency of Object.keys(state.fxPerUsd))
    rates[currency] = decimal(fakeQuote(state, "coinbase", currency), 2);
  rates.ETH = "31.25";
  rates.USDT = decimal(fakeQuote(state, "coinbase", "USD"), 2);
  return json({ data: { currency: "BTC", rates } });
}

/** Kraken's older pairs carry X/Z prefixes in results; newer ones do not. */
const KRAKEN_LEGACY = ["USD", "EUR", "GBP", "CAD", "JPY"];

function krakenAnswer(state: FakeUpstreamState, path: string, url: URL): Response {
  if (path !== "/0/public/Ticker") return json({ error: ["EGeneral:Unknown method"] });
  const pairs = (url.searchParams.get("pair") ?? "").split(",").filter(Boolean);
  const result: Record<string, unknown> = {};
  for (const pair of pairs) {
    const currency = pair.toUpperCase().replace(/^XBT/, "");
    if (!pair.toUpperCase().startsWith("XBT") || state.fxPerUsd[currency] === undefined) {
      return json({ error: ["EQuery:Unknown asset pair"] });
    }
    const key = KRAKEN_LEGACY.includes(currency) ? `XXBTZ${currency}` : `XBT${currency}`;
    const last = decimal(fakeQuote(state, "kraken", currency), 5);
    result[key] = {
      a: [last, "1", "1.000"],
      b: [last, "1", "1.000"],
      c: [last, "0.00100000"],
      v: ["100.0", "1000.0"],
      p: [last, last],
      t: [100, 1000],
      l: [last, last],
      h: [last, last],
      o: last,
    };
  }
  if (pairs.length === 0) return json({ error: ["EGeneral:Invalid arguments"] });
  return json({ error: [], result });
}

function bitstampAnswer(state: FakeUpstreamState, path: string): Response {
  const match = /^\/api\/v2\/ticker\/btc(usd|eur|gbp)\/?$/.exec(path);
  if (!match) return json({ status: "error", reason: "Not found", code: "API0001" }, 404);
  const last = decimal(fakeQuote(state, "bitstamp", match[1]!.toUpperCase()), 0);
  return json({
    timestamp: String(quotedAt(state, "bitstamp")),
    open: last,
    high: last,
    low: last,
    last,
    volume: "2000.5",
    vwap: last,
    bid: last,
    ask: last,
    side: "0",
    open_24: last,
    percent_change_24: "0.00",
    market_type: "SPOT",
  });
}

function coindeskAnswer(state: FakeUpstreamState, path: string, url: URL, authorization: string | null): Response {
  if (!authorization || !/^Apikey \S+$/.test(authorization)) {
    return nativeError("coindesk", "A valid API key is required", 401);
  }
  if (path !== "/index/cc/v1/latest/tick") return json({ Data: {}, Err: { type: 2, message: "Not found" } }, 404);
  const instruments = (url.searchParams.get("instruments") ?? "").split(",").filter(Boolean);
  const data: Record<string, unknown> = {};
  for (const instrument of instruments) {
    const currency = instrument.toUpperCase().replace(/^BTC-/, "");
    if (state.fxPerUsd[currency] === undefined) continue;
    const value = fakeQuote(state, "coindesk", currency);
    data[instrument] = {
      TYPE: "266",
      MARKET: "cadli",
      INSTRUMENT: instrument,
      VALUE: Number.isNaN(value) ? "NaN" : value,
      VALUE_FLAG: "UP",
      VALUE_LAST_UPDATE_TS: quotedAt(state, "coindesk"),
    };
  }
  if (Object.keys(data).length === 0) return json({ Data: {}, Err: { type: 4, message: "no instrument found" } }, 404);
  return json({ Data: data, Err: {} });
}

/**
 * Applies a control document `{"price":…, "mode":{"kraken":"500"}, "offsetPct":{…}, "retryAfterS":…,
 * "resetRequests":true}`; returns an error message, or null when all of it was applied.
 */
export function applyControl(state: FakeUpstreamState, body: unknown): string | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "control body must be a JSON object";
  const control = body as Record<string, unknown>;
  if (control.price !== undefined) {
    if (typeof control.price !== "number" || !Number.isFinite(control.price)) return "price must be a finite number";
    state.priceUsd = control.price;
  }
  if (control.retryAfterS !== undefined) {
    if (typeof control.retryAfterS !== "number" || control.retryAfterS < 0) return "retryAfterS must be a number >= 0";
    state.retryAfterS = control.retryAfterS;
  }
  for (const field of ["mode", "offsetPct"] as const) {
    const map = control[field];
    if (map === undefined) continue;
    if (typeof map !== "object" || map === null) return `${field} must be an object`;
    for (const [name, value] of Object.entries(map)) {
      if (!isUpstreamName(name)) return `unknown source "${name}"`;
      if (field === "mode") {
        if (!isFaultMode(value)) return `unknown mode ${JSON.stringify(value)}; one of ${FAULT_MODES.join(", ")}`;
        state.modes[name] = value;
      } else {
        if (typeof value !== "number" || !Number.isFinite(value)) return `offsetPct.${name} must be a number`;
        state.offsetPct[name] = value;
      }
    }
  }
  if (control.resetRequests === true) state.requests = perSource(0);
  return null;
}

export interface FakeUpstreamController {
  state: FakeUpstreamState;
  setPrice(usd: number): void;
  setMode(source: UpstreamName, mode: FaultMode): void;
  setOffset(source: UpstreamName, pct: number): void;
  requests(source: UpstreamName): number;
  restore(): void;
}

/**
 * Replaces globalThis.fetch so that requests to the *.test hosts reach the fake; any other host
 * goes to the real fetch. Call restore() in afterEach.
 */
export function installFakeUpstream(init: FakeUpstreamInit = {}): FakeUpstreamController {
  const state = createFakeUpstreamState(init);
  const original = globalThis.fetch;
  const fake = async (input: RequestInfo | URL, requestInit?: RequestInit): Promise<Response> => {
    const request = new Request(input, requestInit);
    if (!routeUpstream(new URL(request.url)) || !new URL(request.url).hostname.endsWith(".test")) {
      return original(input, requestInit);
    }
    const signal = requestInit?.signal ?? (input instanceof Request ? input.signal : undefined) ?? request.signal;
    if (signal.aborted) throw signal.reason;
    return handleFakeUpstream(state, request, signal);
  };
  globalThis.fetch = fake as typeof fetch;
  return {
    state,
    setPrice: (usd) => {
      state.priceUsd = usd;
    },
    setMode: (source, mode) => {
      state.modes[source] = mode;
    },
    setOffset: (source, pct) => {
      state.offsetPct[source] = pct;
    },
    requests: (source) => state.requests[source],
    restore: () => {
      globalThis.fetch = original;
    },
  };
}

/**
 * The Worker's variables, parsed into a typed Config. The bindings themselves (`Env`) are generated
 * from wrangler.toml by `npm run types` (wrangler types) into worker-configuration.d.ts.
 */

type VarName = { [K in keyof Env]: Env[K] extends string ? K : never }[keyof Env];

/** What readConfig reads: wrangler.toml's [vars] (all strings) and the optional CoinDesk secret. */
export type ConfigVars = Partial<Pick<Env, VarName>> & { COINDESK_API_KEY?: string };

export interface Config {
  priceSources: string[];
  pollIntervalMs: number;
  sourceTimeoutMs: number;
  historyRetentionS: number;
  clientTtlS: number;
  maxReplay: number;
  maxBuffer: number;
  maxDeviationPct: number;
  /** A quote its upstream dates older than this is not used; 0 turns the check off. */
  maxQuoteAgeS: number;
  maxSocketsPerClient: number;
  /** Upgrades one client_id may make in a minute, counted by its session (src/limits/upgrade-window.ts). */
  resumesPerMinute: number;
  /** The most members a shard of the fan-out tree holds before it splits (docs/design/fanout.md). */
  fanoutChunk: number;
  /**
   * How long a leaf shard waits for its sessions before counting the silent ones failed (they catch up
   * by seq with a later event); each level above a leaf waits a little longer for its children.
   */
  fanoutTimeoutMs: number;
  /** A socket that has been sent nothing for this long gets a heartbeat frame. */
  heartbeatS: number;
  coindeskApiKey: string | null;
  coindeskApiUrl: string;
  coindeskMinIntervalMs: number;
  coinbaseApiUrl: string;
  krakenApiUrl: string;
  bitstampApiUrl: string;
  simulatedVolatility: number;
}

export const DEFAULT_PRICE_SOURCES = "coindesk,coinbase,kraken,bitstamp";

/**
 * One CoinDesk call (all currencies) per 30 s: 31 days × 86,400 s / 30 s = 89,280 calls a month,
 * inside a quota of 100,000 a month with about 10 % left for retries and restarts
 * (docs/design/coindesk-quota.md says the assumption behind that quota).
 */
export const DEFAULT_COINDESK_MIN_INTERVAL_MS = 30_000;

function num(raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}

function url(raw: string | undefined, fallback: string): string {
  return (raw?.trim() || fallback).replace(/\/+$/, "");
}

/** Reads the variables with their defaults; an unusable value falls back rather than taking the feed down. */
export function readConfig(env: ConfigVars): Config {
  return {
    priceSources: (env.PRICE_SOURCES?.trim() || DEFAULT_PRICE_SOURCES)
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
    pollIntervalMs: num(env.POLL_INTERVAL_MS, 5000, 250, 3_600_000),
    sourceTimeoutMs: num(env.SOURCE_TIMEOUT_MS, 0, 0, 60_000),
    historyRetentionS: num(env.HISTORY_RETENTION_S, 86_400, 60, 30 * 86_400),
    clientTtlS: num(env.CLIENT_TTL_S, 120, 1, 30 * 86_400),
    maxReplay: num(env.MAX_REPLAY, 1000, 1, 100_000),
    maxBuffer: num(env.MAX_BUFFER, 5000, 1, 1_000_000),
    maxDeviationPct: num(env.MAX_DEVIATION_PCT, 2, 0.01, 100),
    maxQuoteAgeS: num(env.MAX_QUOTE_AGE_S, 120, 0, 86_400),
    maxSocketsPerClient: num(env.MAX_SOCKETS_PER_CLIENT, 5, 1, 1000),
    resumesPerMinute: Math.floor(num(env.RESUMES_PER_MINUTE, 20, 1, 10_000)),
    fanoutChunk: Math.floor(num(env.FANOUT_CHUNK, 500, 1, 10_000)),
    fanoutTimeoutMs: num(env.FANOUT_TIMEOUT_MS, 10_000, 50, 120_000),
    heartbeatS: num(env.HEARTBEAT_S, 30, 1, 3600),
    coindeskApiKey: env.COINDESK_API_KEY?.trim() || null,
    coindeskApiUrl: url(env.COINDESK_API_URL, "https://data-api.coindesk.com"),
    coindeskMinIntervalMs: num(env.COINDESK_MIN_INTERVAL_MS, DEFAULT_COINDESK_MIN_INTERVAL_MS, 0, 3_600_000),
    coinbaseApiUrl: url(env.COINBASE_API_URL, "https://api.coinbase.com"),
    krakenApiUrl: url(env.KRAKEN_API_URL, "https://api.kraken.com"),
    bitstampApiUrl: url(env.BITSTAMP_API_URL, "https://www.bitstamp.net"),
    simulatedVolatility: num(env.SIMULATED_VOLATILITY, 0.0005, 0, 0.1),
  };
}

const parsed = new WeakMap<ConfigVars, Readonly<Config>>();

/** readConfig once per env: the objects read their config at every event, and an env never changes. */
export function configOf(env: ConfigVars): Readonly<Config> {
  let config = parsed.get(env);
  if (config === undefined) {
    config = Object.freeze(readConfig(env));
    parsed.set(env, config);
  }
  return config;
}

/** The time one poll may take: it never overruns the interval. */
export function pollBudgetMs(config: Config): number {
  return config.sourceTimeoutMs > 0
    ? Math.min(config.sourceTimeoutMs, config.pollIntervalMs * 0.8)
    : Math.max(200, Math.floor(config.pollIntervalMs * 0.6));
}

/**
 * A per-source circuit breaker as pure functions over plain JSON. "Half-open" is not stored: an
 * open breaker whose cooldown has passed is half-open, and the next poll sends it one probe.
 */
export interface BreakerState {
  consecutiveFailures: number;
  /** Times it opened since the last success; each one doubles the cooldown. */
  trips: number;
  /** Set while open: no request before this instant (ms since epoch). */
  retryAtMs: number | null;
}

export type BreakerPhase = "closed" | "open" | "half-open";

export interface BreakerOptions {
  failureThreshold: number;
  baseCooldownMs: number;
  maxCooldownMs: number;
  /** A Retry-After beyond this is taken as this: a bogus header must not silence a source for days. */
  maxRetryAfterMs: number;
}

export const DEFAULT_BREAKER_OPTIONS: BreakerOptions = {
  failureThreshold: 3,
  baseCooldownMs: 15_000,
  maxCooldownMs: 300_000,
  maxRetryAfterMs: 3_600_000,
};

export interface FailureInfo {
  kind: string;
  retryAfterMs?: number;
}

export function closedBreaker(): BreakerState {
  return { consecutiveFailures: 0, trips: 0, retryAtMs: null };
}

export function breakerPhase(state: BreakerState, nowMs: number): BreakerPhase {
  if (state.retryAtMs === null) return "closed";
  return nowMs < state.retryAtMs ? "open" : "half-open";
}

export function cooldownMs(trips: number, options: BreakerOptions = DEFAULT_BREAKER_OPTIONS): number {
  return Math.min(options.maxCooldownMs, options.baseCooldownMs * 2 ** Math.max(0, trips - 1));
}

export function recordSuccess(): BreakerState {
  return closedBreaker();
}

/**
 * One failed poll of the source (after its retries). Opens after `failureThreshold` in a row, at
 * once when a probe fails, and at once on a rate limit or a Retry-After, which it honours.
 */
export function recordFailure(
  state: BreakerState,
  nowMs: number,
  failure: FailureInfo,
  options: BreakerOptions = DEFAULT_BREAKER_OPTIONS,
): BreakerState {
  const consecutiveFailures = state.consecutiveFailures + 1;
  const wasProbe = state.retryAtMs !== null;
  const toldToWait = failure.kind === "rate_limited" || failure.retryAfterMs !== undefined;
  if (!wasProbe && !toldToWait && consecutiveFailures < options.failureThreshold) {
    return { ...state, consecutiveFailures };
  }
  const trips = state.trips + 1;
  const waitMs =
    failure.retryAfterMs !== undefined
      ? Math.min(failure.retryAfterMs, options.maxRetryAfterMs)
      : cooldownMs(trips, options);
  return { consecutiveFailures, trips, retryAtMs: nowMs + waitMs };
}

/** What a poll does with a source now: ask it (with retries), probe it once, or leave it alone. */
export type RequestDecision = "request" | "probe" | "skip_open" | "skip_min_interval";

/**
 * The breaker first, then the source's own rate limit: attempts (retries included) are never closer
 * together than the source's minimum interval, whatever POLL_INTERVAL_MS is.
 */
export function requestDecision(
  breaker: BreakerState,
  lastRequestAtMs: number | null,
  minIntervalMs: number,
  nowMs: number,
): RequestDecision {
  const phase = breakerPhase(breaker, nowMs);
  if (phase === "open") return "skip_open";
  if (!minIntervalElapsed(lastRequestAtMs, minIntervalMs, nowMs)) return "skip_min_interval";
  return phase === "half-open" ? "probe" : "request";
}

export function minIntervalElapsed(lastRequestAtMs: number | null, minIntervalMs: number, nowMs: number): boolean {
  return lastRequestAtMs === null || nowMs - lastRequestAtMs >= minIntervalMs;
}

/**
 * Reconnect delays: exponential with full jitter (a uniformly random delay between 0 and the
 * exponential ceiling), so that clients dropped together by a restart come back spread out.
 * attempt 0 → [0, base], 1 → [0, 2·base], … up to max. Pure: the random source is injected.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

export function backoffCeiling(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const n = Math.max(0, Math.floor(attempt));
  // 2^n overflows to Infinity long after the cap; Math.min handles it.
  return Math.min(options.maxMs, options.baseMs * 2 ** Math.min(n, 30));
}

export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(backoffCeiling(attempt, options) * r);
}

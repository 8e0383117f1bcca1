/**
 * Reconnect delays: exponential with "equal jitter" (half fixed, half random), capped.
 * attempt 0 → ~base, 1 → ~2·base, … up to max. Pure: the random source is injected.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const n = Math.max(0, Math.floor(attempt));
  // 2^n overflows to Infinity long after the cap; Math.min handles it.
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(n, 30));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}

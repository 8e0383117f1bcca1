/** Retries of one source within one poll. */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** An attempt is only started with at least this much of the poll's budget left. */
  minAttemptMs: number;
}

export const RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 1000,
  minAttemptMs: 200,
};

/**
 * Exponential backoff with "equal jitter" (half fixed, half random) so that retries of sources
 * failing together spread out; never shorter than the source's own minimum interval.
 */
export function backoffDelayMs(
  retry: number,
  random: () => number,
  minIntervalMs: number,
  policy: RetryPolicy = RETRY_POLICY,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = ceiling / 2 + (ceiling / 2) * clampUnit(random());
  return Math.max(minIntervalMs, Math.round(jittered));
}

/** A retry must leave time for the attempt itself before the poll's deadline. */
export function fitsInBudget(
  nowMs: number,
  delayMs: number,
  deadlineMs: number,
  policy: RetryPolicy = RETRY_POLICY,
): boolean {
  return nowMs + delayMs + policy.minAttemptMs <= deadlineMs;
}

function clampUnit(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0.5;
}

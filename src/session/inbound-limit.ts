/** A token bucket per socket for inbound frames, kept in the socket's attachment. */
export interface InboundBudget {
  tokens: number;
  refilledAtMs: number;
  /** Frames refused in a row (too fast, too large, binary, invalid); reset by a good frame. */
  strikes: number;
}

export const INBOUND_BURST = 10;
export const INBOUND_PER_SECOND = 2;
/** A socket that keeps abusing is closed (1008) after this many refused frames in a row. */
export const MAX_STRIKES = 5;

export const freshBudget = (nowMs: number): InboundBudget => ({
  tokens: INBOUND_BURST,
  refilledAtMs: nowMs,
  strikes: 0,
});

/** Takes one token; `allowed` is false when the socket sends faster than the bucket refills. */
export function takeToken(budget: InboundBudget, nowMs: number): { allowed: boolean; budget: InboundBudget } {
  const elapsedS = Math.max(0, nowMs - budget.refilledAtMs) / 1000;
  const tokens = Math.min(INBOUND_BURST, budget.tokens + elapsedS * INBOUND_PER_SECOND);
  if (tokens < 1) return { allowed: false, budget: { ...budget, tokens, refilledAtMs: nowMs } };
  return { allowed: true, budget: { ...budget, tokens: tokens - 1, refilledAtMs: nowMs } };
}

export function strike(budget: InboundBudget): { budget: InboundBudget; close: boolean } {
  const strikes = budget.strikes + 1;
  return { budget: { ...budget, strikes }, close: strikes >= MAX_STRIKES };
}

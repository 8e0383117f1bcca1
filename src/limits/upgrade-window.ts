/**
 * The upgrades one client_id may make: at most `limit` in any `periodMs`, counted by the client's own
 * session object. There is one such object per client_id worldwide, so the count is exact and costs
 * no call; it lives in the object's memory, which a client reconnecting in a loop keeps awake, and a
 * restart of the object starts it over.
 */
export interface UpgradeLimit {
  limit: number;
  periodMs: number;
}

export type UpgradeVerdict =
  | { admitted: true; window: number[] }
  | { admitted: false; window: number[]; retryAfterS: number };

/**
 * `window`: the times (ms, oldest first) of the upgrades admitted within the last period. Admits one
 * more if fewer than `limit` lie within it; otherwise says when the oldest leaves it.
 */
export function admitUpgrade(
  window: readonly number[],
  nowMs: number,
  { limit, periodMs }: UpgradeLimit,
): UpgradeVerdict {
  const recent = window.filter((atMs) => atMs > nowMs - periodMs);
  if (recent.length < limit) return { admitted: true, window: [...recent, nowMs] };
  const freeAtMs = recent[recent.length - limit]! + periodMs;
  return { admitted: false, window: recent, retryAfterS: Math.max(1, Math.ceil((freeAtMs - nowMs) / 1000)) };
}

/**
 * When clients dropped together come back, per the client library's reconnect rule
 * (src/sdk/transport.ts with src/sdk/backoff.ts): after the socket closes, attempt k waits a
 * uniformly random delay in [0, min(maxMs, baseMs · 2^k)]; a connection that lived at least
 * `stableAfterMs` resets k to 0. An attempt made while the server does not accept yet fails after
 * `failMs` and the next one waits with k + 1.
 *
 * Imports nothing: see capacity-tree.ts.
 */

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

export interface ReconnectTiming {
  backoff: Backoff;
  /** From the close until the new version accepts connections. */
  outageMs: number;
  /** How long a refused attempt takes to fail. */
  failMs: number;
  /** Time resolution of the computed distribution. */
  binMs: number;
}

/** Probability that a client's successful reconnect lands in each bin after the close (sums to 1). */
export interface ArrivalDistribution {
  binMs: number;
  mass: Float64Array;
}

const MAX_ATTEMPTS = 64;
/** Mass still waiting below this is dropped (it would take more attempts than any client makes). */
const NEGLIGIBLE = 1e-12;

function ceilingMs(attempt: number, backoff: Backoff): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(attempt, 30));
}

/**
 * The distribution of the time of each client's first successful reconnect, every client having
 * had a stable connection when the socket closed (so its first delay is drawn with k = 0).
 */
export function reconnectArrivals(timing: ReconnectTiming): ArrivalDistribution {
  const { backoff, outageMs, failMs, binMs } = timing;
  if (!(binMs > 0)) throw new Error("reconnectArrivals: binMs must be positive");
  let horizon = outageMs + failMs;
  for (let k = 0; k < MAX_ATTEMPTS; k++) horizon += ceilingMs(k, backoff) + failMs;
  const bins = Math.ceil(horizon / binMs) + 2;
  const success = new Float64Array(bins);
  // `pending[i]`: probability that the next attempt's delay starts from bin i (the close, or a failure).
  let pending = new Float64Array(bins);
  pending[0] = 1;
  for (let k = 0; k < MAX_ATTEMPTS; k++) {
    const width = Math.max(1, Math.round(ceilingMs(k, backoff) / binMs));
    // The attempt time: the start plus a delay uniform over `width` bins (a running sum keeps it linear).
    const attempt = new Float64Array(bins);
    let window = 0;
    for (let i = 0; i < bins; i++) {
      window += pending[i] ?? 0;
      if (i - width >= 0) window -= pending[i - width] ?? 0;
      attempt[i] = window / width;
    }
    const next = new Float64Array(bins);
    let waiting = 0;
    const failBins = Math.round(failMs / binMs);
    for (let i = 0; i < bins; i++) {
      const p = attempt[i] ?? 0;
      if (p === 0) continue;
      if (i * binMs >= outageMs) {
        success[i] = (success[i] ?? 0) + p;
      } else if (i + failBins < bins) {
        next[i + failBins] = (next[i + failBins] ?? 0) + p;
        waiting += p;
      }
    }
    pending = next;
    if (waiting < NEGLIGIBLE) break;
  }
  return { binMs, mass: success };
}

/** The largest share of all reconnects that lands within any `windowMs` (a sliding window over the bins). */
export function worstWindowShare(arrivals: ArrivalDistribution, windowMs: number): number {
  const width = Math.max(1, Math.round(windowMs / arrivals.binMs));
  let best = 0;
  let sum = 0;
  const m = arrivals.mass;
  for (let i = 0; i < m.length; i++) {
    sum += m[i] ?? 0;
    if (i - width >= 0) sum -= m[i - width] ?? 0;
    best = Math.max(best, sum);
  }
  return Math.min(1, best);
}

/** The time by which `share` of the clients are back (e.g. 0.99). */
export function timeToShareMs(arrivals: ArrivalDistribution, share: number): number {
  let sum = 0;
  for (let i = 0; i < arrivals.mass.length; i++) {
    sum += arrivals.mass[i] ?? 0;
    if (sum >= share) return (i + 1) * arrivals.binMs;
  }
  return arrivals.mass.length * arrivals.binMs;
}

/**
 * Runs a burst of requests inside one rate-limit window. Miniflare counts in windows aligned to
 * the wall clock (every minute for period 60): a burst that straddles a boundary starts over
 * halfway, and its counts say nothing. Such a burst is run again with fresh keys: `burst` gets the
 * attempt's number to make its addresses or client_ids from. A burst is not started in the last
 * seconds of a window.
 */
export async function withinOneLimiterWindow<T>(burst: (attempt: number) => Promise<T>, periodS = 60): Promise<T> {
  const periodMs = periodS * 1000;
  for (let attempt = 0; ; attempt++) {
    const left = periodMs - (Date.now() % periodMs);
    if (left < periodMs / 6) await new Promise((r) => setTimeout(r, left + 20));
    const window = Math.floor(Date.now() / periodMs);
    const result = await burst(attempt);
    if (Math.floor(Date.now() / periodMs) === window) return result;
  }
}

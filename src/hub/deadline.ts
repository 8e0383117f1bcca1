/** Aborts when the poll's time budget is spent, or when the poll is over (cancelling stragglers). */
export function budgetSignal(budgetMs: number): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("the poll's time budget is spent", "TimeoutError")),
    budgetMs,
  );
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      controller.abort(new DOMException("the poll is over", "AbortError"));
    },
  };
}

/** Settles no later than the signal aborts, even if the work ignores the signal. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

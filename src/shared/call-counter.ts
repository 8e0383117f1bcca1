/** Calls an object has served since its instance started, by method: what /health and the capacity check read. */
export type CallCounts = Record<string, number>;

export class CallCounter {
  private readonly counts: CallCounts = {};

  count(method: string): void {
    this.counts[method] = (this.counts[method] ?? 0) + 1;
  }

  /** A copy, methods in the order first called. */
  report(): CallCounts {
    return { ...this.counts };
  }
}

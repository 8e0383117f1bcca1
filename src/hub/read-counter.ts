/** What the HTTP side asks the hub for. */
export type HttpRead = "health" | "price" | "history";

export interface HttpReadsReport {
  health: number;
  price: number;
  history: number;
  /** The counts start when the hub's instance does (memory only: a restart starts them over). */
  since: string;
}

/** Counts the hub's HTTP reads: with the edge cache in front, at most one per key per interval and location. */
export class ReadCounter {
  private readonly counts: Record<HttpRead, number> = { health: 0, price: 0, history: 0 };
  private readonly sinceMs: number;

  constructor(nowMs = Date.now()) {
    this.sinceMs = nowMs;
  }

  count(read: HttpRead): void {
    this.counts[read]++;
  }

  report(): HttpReadsReport {
    return { ...this.counts, since: new Date(this.sinceMs).toISOString() };
  }
}

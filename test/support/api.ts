import { vi } from "vitest";
import type { HistoryBody, HistoryPoint } from "../../src/protocol";
import { randomIp } from "./feed";
import { fetchDocumented } from "./http";
import { hub } from "./hub";

// The edge cache keys on the request's origin: each test asks under its own host, so what one
// test cached (for an hour: the tests' poll interval) never answers another.
let hostCount = 0;
export const freshHost = () => `http://api-${++hostCount}-${Math.random().toString(36).slice(2, 8)}.test`;

/** A GET from its own address (the per-IP limit stays out of the way unless a test wants it). */
export const getFrom = (base: string, path: string, headers: Record<string, string> = {}) =>
  fetchDocumented(new Request(`${base}${path}`, { headers: { "CF-Connecting-IP": randomIp(), ...headers } }));

/** The hub's HTTP reads so far (each one an edge-cache miss), from /health's `hub_calls`. */
export const hubReads = async () => {
  const calls = (await hub().health()).hub_calls;
  return { price: calls.snapshot ?? 0, history: calls.historyPage ?? 0, candles: calls.candlesPage ?? 0 };
};

/** Every point /api/history gives for the query, following `next`. */
export async function historyPoints(base: string, query: string): Promise<HistoryPoint[]> {
  const points: HistoryPoint[] = [];
  let path: string | null = `/api/history?${query}&limit=2000`;
  while (path !== null) {
    const response = await getFrom(base, path);
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as HistoryBody;
    points.push(...body.points);
    path = body.next;
  }
  return points;
}

const HOUR_MS = 3_600_000;

/**
 * A clock of the tests' own for the hub, the Worker and the test alike (they share one isolate), set
 * by hand: ticks are published at the times a test names. It runs days ahead of the real one, so the
 * hub's alarm (an hour of real time after its first poll) never runs between a test's steps, and it
 * only goes forward: `freshHour()` is an hour no earlier test used.
 */
export const testClock = {
  lastMs: Math.ceil((Date.now() + 2 * 86_400_000) / HOUR_MS) * HOUR_MS,
  /** Puts the hub, the Worker and the test on the test clock, where it was last set. */
  start(): void {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(testClock.lastMs);
  },
  stop(): void {
    vi.useRealTimers();
  },
  set(ms: number): void {
    if (ms < testClock.lastMs) throw new Error(`the test clock only goes forward: ${ms} < ${testClock.lastMs}`);
    testClock.lastMs = ms;
    vi.setSystemTime(ms);
  },
  /** The start of an hour after every time set so far, set as now. */
  freshHour(): number {
    const hour = (Math.floor(testClock.lastMs / HOUR_MS) + 1) * HOUR_MS;
    testClock.set(hour);
    return hour;
  },
};

import { setLogSink } from "../../src/shared/log";

/** Every line logged since the current test started (the Worker, its objects and the test share one isolate). */
const lines: string[] = [];

export function captureLogs(): void {
  setLogSink((line) => lines.push(line));
}

export function clearLogs(): void {
  lines.length = 0;
}

export function logLines(): readonly string[] {
  return lines;
}

/** The logged events of this test, parsed; `event` filters by name. */
export function loggedEvents(event?: string): Record<string, unknown>[] {
  const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return event === undefined ? parsed : parsed.filter((e) => e.event === event);
}

/** Structured logs: one JSON object per event, so Workers Logs can filter on fields. */
export function log(event: string, fields: Record<string, unknown>): void {
  sink(JSON.stringify({ event, at: new Date().toISOString(), ...fields }));
}

export type LogSink = (line: string) => void;

let sink: LogSink = (line) => console.log(line);

/** Sends log lines elsewhere (tests keep them, and print them only for a failing test). Returns the previous sink. */
export function setLogSink(next: LogSink): LogSink {
  const previous = sink;
  sink = next;
  return previous;
}

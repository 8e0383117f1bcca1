/** Structured logs: one JSON object per event, so Workers Logs can filter on fields. */
export function log(event: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ event, at: new Date().toISOString(), ...fields }));
}

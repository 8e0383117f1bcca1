import type { DeliveryReport, HubEvent, ReceiveResult } from "../contracts";
import type { SessionStubs } from "./session-stubs";

/** A session that does not answer within this time is counted failed; it catches up from history on the next tick. */
export const DELIVERY_TIMEOUT_MS = 10_000;

const TIMED_OUT = Symbol("timed out");

/**
 * Sends one event to many client sessions concurrently. One slow or failing session
 * never delays the others beyond the timeout, and never stops them. The whole batch
 * shares one deadline timer rather than arming one per session per tick.
 */
export async function deliverToSessions(
  stubs: SessionStubs,
  event: HubEvent,
  clientIds: readonly string[],
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<DeliveryReport> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  const report: DeliveryReport = { delivered: 0, failed: 0, gone: [] };
  const count = (id: string, result: ReceiveResult | typeof TIMED_OUT) => {
    if (result === TIMED_OUT) report.failed++;
    else if (!result.subscribed) report.gone.push(id);
    else report.delivered++;
  };
  try {
    await Promise.all(
      stubs.batch(clientIds).map((stub, i) =>
        Promise.race([stub.receive(event), deadline]).then(
          (result) => count(clientIds[i]!, result),
          () => {
            report.failed++;
            stubs.forget(clientIds[i]!);
          },
        ),
      ),
    );
  } finally {
    clearTimeout(timer);
  }
  return report;
}

export function mergeReports(reports: readonly DeliveryReport[]): DeliveryReport {
  return {
    delivered: reports.reduce((n, r) => n + r.delivered, 0),
    failed: reports.reduce((n, r) => n + r.failed, 0),
    gone: reports.flatMap((r) => r.gone),
  };
}

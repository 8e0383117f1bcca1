import type { Env } from "../config";
import type { DeliveryReport, HubEvent } from "./events";

/** A session that does not answer within this time is counted failed; it catches up from history on the next tick. */
export const DELIVERY_TIMEOUT_MS = 10_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Sends one event to many client sessions concurrently. One slow or failing session
 * never delays the others beyond the timeout, and never stops them.
 */
export async function deliverToSessions(
  env: Env,
  event: HubEvent,
  clientIds: readonly string[],
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<DeliveryReport> {
  const results = await Promise.allSettled(
    clientIds.map((id) =>
      withTimeout(env.CLIENT_SESSION.get(env.CLIENT_SESSION.idFromName(id)).receive(event), timeoutMs),
    ),
  );
  const report: DeliveryReport = { delivered: 0, failed: 0, gone: [] };
  results.forEach((result, i) => {
    if (result.status === "rejected") report.failed++;
    else if (!result.value.subscribed) report.gone.push(clientIds[i]!);
    else report.delivered++;
  });
  return report;
}

export function mergeReports(reports: readonly DeliveryReport[]): DeliveryReport {
  return {
    delivered: reports.reduce((n, r) => n + r.delivered, 0),
    failed: reports.reduce((n, r) => n + r.failed, 0),
    gone: reports.flatMap((r) => r.gone),
  };
}

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

/** One relay's share of a fan-out: how many sessions it serves, and the call that hands them the event. */
export interface RelayBatch {
  size: number;
  send: () => Promise<DeliveryReport>;
}

/**
 * Hands one event to every relay concurrently and waits for their reports, no longer than
 * `timeoutMs` (one timer for all). A relay that throws or does not answer in time counts its
 * whole group failed (those sessions fill the hole from history on the next tick): a hung relay
 * costs one deadline, never the poll loop.
 */
export async function deliverThroughRelays(
  batches: readonly RelayBatch[],
  timeoutMs: number,
): Promise<{ report: DeliveryReport; failedRelays: number[] }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  const failedRelays: number[] = [];
  const failed = (i: number): DeliveryReport => {
    failedRelays.push(i);
    return { delivered: 0, failed: batches[i]!.size, gone: [] };
  };
  try {
    const reports = await Promise.all(
      batches.map((batch, i) =>
        batch.size === 0
          ? { delivered: 0, failed: 0, gone: [] }
          : Promise.race([batch.send(), deadline]).then(
              (result) => (result === TIMED_OUT ? failed(i) : result),
              () => failed(i),
            ),
      ),
    );
    return { report: mergeReports(reports), failedRelays: failedRelays.sort((a, b) => a - b) };
  } finally {
    clearTimeout(timer);
  }
}

import type { DeliveryReport, HubEvent, ReceiveResult } from "../contracts";
import { pageAfter, type TickPage } from "../storage/tick-table";
import type { SessionStubs } from "./session-stubs";

/** A session that does not answer within this time is counted failed; it catches up from history on the next tick. */
export const DELIVERY_TIMEOUT_MS = 10_000;

export interface DeliveryOptions {
  timeoutMs?: number;
  /** Reads the hub's history after a seq: once per batch, for every session that has a hole. */
  backlog: (afterSeq: number) => Promise<TickPage> | TickPage;
}

const TIMED_OUT = Symbol("timed out");

/**
 * Sends one event to many client sessions concurrently. One slow or failing session never delays
 * the others beyond the deadline, and never stops them; the whole batch shares one deadline timer.
 * Sessions with a hole before the tick (see ReceiveResult.missingAfter) get it again with the
 * history they miss, read once for all of them: a relay that failed, or a restart, does not turn
 * into one history read on the hub per session.
 */
export async function deliverToSessions(
  stubs: SessionStubs,
  event: HubEvent,
  clientIds: readonly string[],
  { timeoutMs = DELIVERY_TIMEOUT_MS, backlog }: DeliveryOptions,
): Promise<DeliveryReport> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  const report: DeliveryReport = { delivered: 0, failed: 0, gone: [] };
  const behind: { index: number; afterSeq: number }[] = [];
  const batch = stubs.batch(clientIds);

  const deliver = (index: number, sent: HubEvent, retried: boolean) =>
    Promise.race([batch[index]!.receive(sent), deadline]).then(
      (result: ReceiveResult | typeof TIMED_OUT) => {
        if (result === TIMED_OUT) report.failed++;
        else if (!result.subscribed) report.gone.push(clientIds[index]!);
        else if (result.missingAfter === undefined) report.delivered++;
        else if (retried || sent.kind !== "tick") report.failed++;
        else behind.push({ index, afterSeq: result.missingAfter });
      },
      () => {
        report.failed++;
        stubs.forget(clientIds[index]!);
      },
    );

  try {
    await Promise.all(clientIds.map((_, i) => deliver(i, event, false)));
    if (behind.length > 0 && event.kind === "tick") {
      const fromSeq = Math.min(...behind.map((b) => b.afterSeq));
      // A read that throws, synchronously or not, costs these sessions this tick, never the batch.
      const read = Promise.resolve()
        .then(() => backlog(fromSeq))
        .catch((): typeof TIMED_OUT => TIMED_OUT);
      const page = await Promise.race([read, deadline]);
      if (page === TIMED_OUT) report.failed += behind.length;
      else
        await Promise.all(
          behind.map((b) => deliver(b.index, { ...event, backlog: pageAfter(page, b.afterSeq) }, true)),
        );
    }
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

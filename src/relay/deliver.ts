import type { FanoutEvent, ReceiveResult } from "../contracts";
import { pageAfter, type TickPage } from "../storage/tick-table";

/** One receiver of a batch: a session (`receive`) or a child shard (`deliver`). */
export interface Receiver<R extends ReceiveResult> {
  name: string;
  send: (event: FanoutEvent) => Promise<R>;
}

export interface BatchOptions {
  timeoutMs: number;
  /** Reads the sender's history after a seq: once per batch, for every receiver that has a hole. */
  backlog: (afterSeq: number) => Promise<TickPage> | TickPage;
}

export interface BatchOutcome<R> {
  /** Receivers that handled the event, with their answers. */
  handled: { name: string; result: R }[];
  /** Receivers that threw, missed the deadline, or still had a hole with their backlog. */
  failed: string[];
  /** Receivers that threw: their stubs may be broken with the call. */
  threw: string[];
  /** Receivers that no longer exist (`subscribed: false`). */
  gone: string[];
  /** Receivers that handled the event and want no more until they register again (`parked`). */
  parked: string[];
}

const TIMED_OUT = Symbol("timed out");

/** The events a receiver can have a hole before: a tick, or a beat naming a head it has not reached. */
const fillable = (event: FanoutEvent): event is Extract<FanoutEvent, { kind: "tick" | "beat" }> =>
  event.kind === "tick" || event.kind === "beat";

/**
 * Sends one event to many receivers concurrently. One slow or failing receiver never delays the others
 * beyond the deadline, and never stops them; the whole batch shares one deadline timer. Receivers with a
 * hole before the event (ReceiveResult.missingAfter) get it again with the history they miss, read once
 * for all of them: a lost delivery or a restart does not turn into one history read per receiver.
 */
export async function deliverBatch<R extends ReceiveResult>(
  receivers: readonly Receiver<R>[],
  event: FanoutEvent,
  { timeoutMs, backlog }: BatchOptions,
): Promise<BatchOutcome<R>> {
  const outcome: BatchOutcome<R> = { handled: [], failed: [], threw: [], gone: [], parked: [] };
  if (receivers.length === 0) return outcome;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  const behind: { receiver: Receiver<R>; afterSeq: number }[] = [];

  const deliver = (receiver: Receiver<R>, sent: FanoutEvent, retried: boolean) =>
    Promise.race([receiver.send(sent), deadline]).then(
      (result: R | typeof TIMED_OUT) => {
        if (result === TIMED_OUT) outcome.failed.push(receiver.name);
        else if (!result.subscribed) outcome.gone.push(receiver.name);
        else if (result.missingAfter === undefined) {
          outcome.handled.push({ name: receiver.name, result });
          if (result.parked) outcome.parked.push(receiver.name);
        } else if (retried || !fillable(sent)) outcome.failed.push(receiver.name);
        else behind.push({ receiver, afterSeq: result.missingAfter });
      },
      () => {
        outcome.failed.push(receiver.name);
        outcome.threw.push(receiver.name);
      },
    );

  try {
    await Promise.all(receivers.map((r) => deliver(r, event, false)));
    if (behind.length > 0 && fillable(event)) {
      const fromSeq = Math.min(...behind.map((b) => b.afterSeq));
      // A read that throws, synchronously or not, costs these receivers this event, never the batch.
      const read = Promise.resolve()
        .then(() => backlog(fromSeq))
        .catch((): typeof TIMED_OUT => TIMED_OUT);
      const page = await Promise.race([read, deadline]);
      if (page === TIMED_OUT) outcome.failed.push(...behind.map((b) => b.receiver.name));
      else {
        await Promise.all(
          behind.map((b) => deliver(b.receiver, { ...event, backlog: pageAfter(page, b.afterSeq) }, true)),
        );
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return outcome;
}

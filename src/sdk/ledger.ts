/**
 * The seq bookkeeping behind the library's promises, as a pure state machine: `price` at most
 * once per seq and in increasing order, and every seq after the first either delivered, inside a
 * `gap`, or vouched for by the server as a tick that did not move the feed's currencies.
 *
 * A socket is only sent the ticks in which one of its currencies changed, so seq numbers on one
 * socket skip legitimately. A skip is trusted ("covered") only while the server has vouched for a
 * complete stream after `lastSeq` on the current connection:
 * - a fresh start (no `last_seq` sent, or right after a reset): nothing is owed before the first tick;
 * - a resume (`last_seq` sent): from the first replayed tick (the replay is every tick after
 *   `last_seq` that concerns the feed, in order) or from `replay_end`, whichever comes first.
 * A tick that jumps ahead before that (a server that answered a resume without replaying) turns
 * the skipped seqs into a `gap`: nobody vouched for them, and nobody will send them.
 */
import type { ServerMessage } from "../protocol";
import { frameInfo } from "./camel-case";
import type { GapRange, PriceTick, ResetInfo } from "./types";

export interface Ledger {
  /** The history the seq numbers belong to; null until a welcome named one. */
  epoch: string | null;
  /** Highest seq accounted for (delivered, or inside a gap); null before the first tick of an epoch. */
  lastSeq: number | null;
  /** The current connection asked for a resume with `last_seq`. */
  resuming: boolean;
  /** The server has vouched for a complete stream after `lastSeq` on this connection. */
  vouched: boolean;
  /** Replayed ticks delivered on this connection since its last `replay_end`. */
  replayed: number;
  /** The epoch this connection already reset to (a welcome and a `reset` frame may both say so). */
  resetTo: string | null;
}

export type LedgerOutput =
  | { kind: "price"; tick: PriceTick }
  | { kind: "gap"; range: GapRange }
  | { kind: "reset"; info: ResetInfo }
  | { kind: "replay_end"; count: number }
  | { kind: "duplicate"; seq: number }
  /** A heartbeat named seqs after `lastSeq` that nobody vouched for: resume to learn what they were. */
  | { kind: "hole"; seq: number };

export function createLedger(saved: { epoch?: string | null; lastSeq?: number | null } = {}): Ledger {
  return {
    epoch: saved.epoch ?? null,
    lastSeq: saved.lastSeq ?? null,
    resuming: false,
    vouched: true,
    replayed: 0,
    resetTo: null,
  };
}

/** A new socket is being opened: it resumes from `lastSeq` when there is one. */
export function connecting(ledger: Ledger): Ledger {
  const resuming = ledger.lastSeq !== null;
  return { ...ledger, resuming, vouched: !resuming, replayed: 0, resetTo: null };
}

function reset(ledger: Ledger, info: ResetInfo): [Ledger, LedgerOutput[]] {
  const next: Ledger = {
    ...ledger,
    epoch: info.epoch,
    lastSeq: null,
    resuming: false,
    vouched: true,
    replayed: 0,
    resetTo: info.epoch,
  };
  return [next, [{ kind: "reset", info }]];
}

const RESET_ON_WELCOME = "the server's history changed (another epoch): seq numbering restarted";

/** Folds one server frame into the ledger; returns what the client must emit, in order. */
export function step(ledger: Ledger, msg: ServerMessage): [Ledger, LedgerOutput[]] {
  switch (msg.type) {
    case "welcome": {
      const known = ledger.epoch;
      if (known !== null && msg.epoch !== "" && msg.epoch !== known && ledger.lastSeq !== null) {
        return reset(ledger, { epoch: msg.epoch, previousEpoch: known, message: RESET_ON_WELCOME });
      }
      return [{ ...ledger, epoch: msg.epoch !== "" ? msg.epoch : known }, []];
    }
    case "reset":
      if (ledger.resetTo === msg.epoch) return [ledger, []];
      return reset(ledger, {
        epoch: msg.epoch,
        previousEpoch: msg.previous_epoch || (ledger.epoch ?? ""),
        message: msg.message,
      });
    case "price": {
      const { seq } = msg;
      if (!Number.isSafeInteger(seq) || seq < 0) return [ledger, []];
      const last = ledger.lastSeq;
      if (last !== null && seq <= last) return [ledger, [{ kind: "duplicate", seq }]];
      const out: LedgerOutput[] = [];
      if (last !== null && seq > last + 1 && !ledger.vouched && !msg.replayed) {
        out.push({ kind: "gap", range: { fromSeq: last + 1, toSeq: seq - 1 } });
      }
      out.push({ kind: "price", tick: frameInfo(msg) });
      return [{ ...ledger, lastSeq: seq, vouched: true, replayed: ledger.replayed + (msg.replayed ? 1 : 0) }, out];
    }
    case "gap": {
      const last = ledger.lastSeq;
      const { from_seq: from, to_seq: to } = msg;
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from > to || from < 0) return [ledger, []];
      if (last !== null && to <= last) return [ledger, []];
      // Unvouched, the seqs between lastSeq and the gap are not known to be covered either.
      const fromSeq = last === null ? from : ledger.vouched ? Math.max(from, last + 1) : last + 1;
      return [{ ...ledger, lastSeq: to }, [{ kind: "gap", range: { fromSeq, toSeq: to } }]];
    }
    case "heartbeat":
      // Vouched, the seqs up to it did not move the feed's currencies; otherwise they may be lost.
      if (ledger.lastSeq !== null && msg.seq > ledger.lastSeq && !ledger.vouched) {
        return [ledger, [{ kind: "hole", seq: msg.seq }]];
      }
      return [ledger, []];
    case "replay_end":
      return [{ ...ledger, vouched: true, replayed: 0 }, [{ kind: "replay_end", count: ledger.replayed }]];
    default:
      return [ledger, []];
  }
}

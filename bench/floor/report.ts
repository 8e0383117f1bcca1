/**
 * The floor's fan-out report and registration rule, as pure functions (tested in
 * test/bench/floor.test.ts): what each shard answers its parent, and where a client registers.
 */
import { childToward } from "../../src/relay/topology";

/** Calls served by method, summed over a subtree's shards (`total`) and the most one of them served (`max`). */
export type CallCounts = Record<string, { total: number; max: number }>;

/** A subtree's delivery and shape, summed up the tree into the hub's last_fanout. */
export interface FloorReport {
  delivered: number;
  failed: number;
  shards: number;
  leaves: number;
  /** Depth of the deepest leaf. */
  depth: number;
  /** Members of the fullest leaf. */
  maxMembers: number;
  /** What the shards served since their instances started, as the feed reports it (last_fanout.shardCalls). */
  shardCalls: CallCounts;
}

/** One shard's own part: its members' calls (a split shard is interior, whatever members it still lists). */
export function ownReport(
  prefix: string,
  split: boolean,
  members: number,
  delivered: number,
  calls: Record<string, number> = {},
): FloorReport {
  return {
    delivered,
    failed: members - delivered,
    shards: 1,
    leaves: split ? 0 : 1,
    depth: split ? 0 : prefix.length,
    maxMembers: split ? 0 : members,
    shardCalls: Object.fromEntries(Object.entries(calls).map(([m, n]) => [m, { total: n, max: n }])),
  };
}

function mergeCalls(a: CallCounts, b: CallCounts): CallCounts {
  const out: CallCounts = { ...a };
  for (const [method, c] of Object.entries(b)) {
    const mine = out[method];
    out[method] = mine ? { total: mine.total + c.total, max: Math.max(mine.max, c.max) } : c;
  }
  return out;
}

export function mergeReports(own: FloorReport, children: readonly FloorReport[]): FloorReport {
  return children.reduce(
    (sum, c) => ({
      delivered: sum.delivered + c.delivered,
      failed: sum.failed + c.failed,
      shards: sum.shards + c.shards,
      leaves: sum.leaves + c.leaves,
      depth: Math.max(sum.depth, c.depth),
      maxMembers: Math.max(sum.maxMembers, c.maxMembers),
      shardCalls: mergeCalls(sum.shardCalls, c.shardCalls),
    }),
    own,
  );
}

/** A child that did not answer: its subtree counts as failed (the number is unknown, one stands for it). */
export const FAILED_CHILD: FloorReport = {
  delivered: 0,
  failed: 1,
  shards: 0,
  leaves: 0,
  depth: 0,
  maxMembers: 0,
  shardCalls: {},
};

/** Where a register at `prefix` goes: here (null), or on to the child on the client's path once split. */
export function registerTarget(prefix: string, clientId: string, split: boolean): string | null {
  return split ? childToward(prefix, clientId) : null;
}

/** A frame a shard delivered, with its seq: what the resuming floor replays from. */
export interface DeliveredFrame {
  seq: number;
  frame: string;
}

const LIVE = '"replayed":false';
const REPLAYED = '"replayed":true';

/** The frames delivered past `afterSeq`, oldest first, marked replayed (each was built live by the hub). */
export function framesAfter(recent: readonly DeliveredFrame[], afterSeq: number): string[] {
  return recent.filter((r) => r.seq > afterSeq).map((r) => r.frame.replace(LIVE, REPLAYED));
}

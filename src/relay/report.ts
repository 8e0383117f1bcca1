import type { FanoutReport } from "../contracts";
import type { CallCounts } from "../shared/call-counter";

/** What one shard did with an event, before its children's reports are added. */
export interface OwnReport {
  depth: number;
  /** Members it lists (a leaf, or an interior shard still handing members down). */
  members: number;
  /** True when it lists no child: a leaf. */
  leaf: boolean;
  delivered: number;
  /** Sessions and children that failed. */
  failed: number;
  gone: number;
  /** Members it sends nothing until they register again (MemberTable.park). */
  parked: number;
  calls: CallCounts;
}

/** The report of a subtree: its root's own work plus its children's reports. */
export function subtreeReport(own: OwnReport, children: readonly FanoutReport[]): FanoutReport {
  const report: FanoutReport = {
    delivered: own.delivered,
    failed: own.failed,
    gone: own.gone,
    parked: own.parked,
    shards: 1,
    leaves: own.leaf ? 1 : 0,
    depth: own.depth,
    maxMembers: own.members,
    shardCalls: Object.fromEntries(Object.entries(own.calls).map(([method, n]) => [method, { total: n, max: n }])),
  };
  for (const child of children) {
    report.delivered += child.delivered;
    report.failed += child.failed;
    report.gone += child.gone;
    report.parked += child.parked;
    report.shards += child.shards;
    report.leaves += child.leaves;
    report.depth = Math.max(report.depth, child.depth);
    report.maxMembers = Math.max(report.maxMembers, child.maxMembers);
    for (const [method, calls] of Object.entries(child.shardCalls)) {
      const mine = report.shardCalls[method];
      report.shardCalls[method] = mine
        ? { total: mine.total + calls.total, max: Math.max(mine.max, calls.max) }
        : { ...calls };
    }
  }
  return report;
}

import { describe, expect, it } from "vitest";
import {
  attributable,
  compareRun,
  type MeasuredRun,
  predictRun,
  type Snapshot,
  snapshotOf,
} from "../../scripts/capacity-compare";
import { DESIGN_CALLS } from "../../scripts/capacity-model";
import type { TreeShape } from "../../scripts/capacity-tree";

const TREE: TreeShape = {
  clients: 1500,
  chunk: 500,
  shards: 17,
  leaves: 16,
  interior: 1,
  depth: 1,
  busiestLeaf: 120,
  shardsByDepth: [1, 16],
  clientsByLeafDepth: [0, 1500],
};
const SHAPE = { shards: 17, leaves: 16, depth: 1, maxMembers: 120 };

function snap(atMs: number, hub: Record<string, number>, shards: Record<string, number>, max = {}): Snapshot {
  return { atMs, hubCalls: hub, shardTotals: shards, shardMax: max, shape: SHAPE };
}

/**
 * A run as the design says it goes, at 1 s polls: the hub serves an alarm a second (and the bench's
 * /health reads); every shard a deliver a second; each connect registers 1.5 times on average and
 * each reconnect once, with its catch-up in the answer.
 */
function designRun(): MeasuredRun {
  const n = 1500;
  const connect = {
    before: snap(0, { alarm: 5, health: 1 }, { deliver: 5, register: 0 }),
    after: snap(20_000, { alarm: 25, health: 2 }, { deliver: 25 + 16 * 18, register: 2250, adoptMembers: 16 }),
    quietBefore: snap(20_000, { alarm: 25, health: 2 }, { deliver: 313, register: 2250, adoptMembers: 16 }),
    quietAfter: snap(30_000, { alarm: 35, health: 3 }, { deliver: 313 + 170, register: 2250, adoptMembers: 16 }),
  };
  const steady = {
    before: snap(20_000, {}, { deliver: 313 }, { deliver: 20 }),
    after: snap(30_000, {}, { deliver: 483 }, { deliver: 30 }),
  };
  const reconnect = {
    before: snap(0, { alarm: 1, health: 1 }, { deliver: 17 }),
    after: snap(3000, { alarm: 4, health: 2 }, { deliver: 17 + 51, register: n }),
    quietBefore: snap(3000, { alarm: 4, health: 2 }, { deliver: 68, register: n }),
    quietAfter: snap(13_000, { alarm: 14, health: 3 }, { deliver: 68 + 170, register: n }),
  };
  return { clients: n, intervalMs: 1000, connect, steady, reconnect, reconnected: n };
}

describe("--measure's comparison", () => {
  it("finds a run that goes as the design says consistent with the model", () => {
    const verdicts = compareRun(predictRun(TREE, DESIGN_CALLS, 16), designRun());
    for (const v of verdicts) expect(v, v.what).toMatchObject({ ok: true });
  });

  it("flags a hub called on every reconnect, a register missing, a catch-up read per reconnect, another tree", () => {
    const run = designRun();
    run.reconnect.after.hubCalls = { ...run.reconnect.after.hubCalls, ticksAfter: 1500 };
    run.reconnect.quietBefore.hubCalls = { ...run.reconnect.quietBefore.hubCalls, ticksAfter: 1500 };
    run.reconnect.quietAfter.hubCalls = { ...run.reconnect.quietAfter.hubCalls, ticksAfter: 1500 };
    run.reconnect.after.shardTotals = { ...run.reconnect.after.shardTotals, register: 0, ticksAfter: 1500 };
    run.reconnect.quietBefore.shardTotals = { ...run.reconnect.quietBefore.shardTotals, register: 0 };
    run.reconnect.quietAfter.shardTotals = { ...run.reconnect.quietAfter.shardTotals, register: 0 };
    run.steady.after = { ...run.steady.after, shape: { ...SHAPE, maxMembers: 130 } };
    const bad = compareRun(predictRun(TREE, DESIGN_CALLS, 16), run)
      .filter((v) => !v.ok)
      .map((v) => v.what);
    expect(bad).toEqual([
      "tree: maxMembers",
      "hub calls per reconnect after a restart",
      "registers per reconnect after a restart",
      "history reads on shards per reconnect (the catch-up comes with the register)",
    ]);
  });

  it("flags a shard delivered to twice per poll", () => {
    const run = designRun();
    run.steady.after = { ...run.steady.after, shardTotals: { deliver: 313 + 2 * 170 }, shardMax: { deliver: 40 } };
    const bad = compareRun(predictRun(TREE, DESIGN_CALLS, 16), run).filter((v) => !v.ok);
    expect(bad.map((v) => v.what)).toEqual([
      "deliver per shard per poll (steady)",
      "deliver to the busiest shard per poll (steady, at most)",
    ]);
  });

  it("subtracts what the same time costs without the phase (polls, the bench's own reads)", () => {
    const run = designRun();
    // 20 s of connects: 20 alarms and a health read of background; 10 quiet seconds: 10 and 1.
    expect(attributable(run.connect, (s) => s.hubCalls)).toEqual({ alarm: 0, health: -1 });
    expect(attributable(run.reconnect, (s) => s.shardTotals).register).toBe(1500);
  });

  it("reads /health, and says what is missing when the feed does not count calls", () => {
    expect(snapshotOf({ ok: true, last_fanout: { relays: 2 } }, 1)).toEqual({ missing: "/health has no hub_calls" });
    expect(snapshotOf({ hub_calls: {}, last_fanout: { shards: 1 } }, 1)).toEqual({
      missing: "last_fanout has no shardCalls",
    });
    const read = snapshotOf(
      {
        hub_calls: { alarm: 3, snapshot: 1, note: "x" },
        last_fanout: {
          shards: 17,
          leaves: 16,
          depth: 1,
          maxMembers: 120,
          shardCalls: { deliver: { total: 170, max: 10 }, register: { total: 3 } },
        },
      },
      42,
    );
    expect(read).toEqual({
      snapshot: {
        atMs: 42,
        hubCalls: { alarm: 3, snapshot: 1 },
        shardTotals: { deliver: 170, register: 3 },
        shardMax: { deliver: 10 },
        shape: SHAPE,
      },
    });
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  arrivalRegistersPerShard,
  capacityRow,
  checkTargets,
  codeConstants,
  DEFAULT_ASSUMPTIONS,
  extraRegistersPerNewSession,
  HOW_THE_ROWS_COUNT,
  hubBytesPerTick,
  JSON_FIELDS,
  jsonRow,
  STORM_WINDOW_MS,
  withAssumptions,
  type Assumptions,
  type CodeConstants,
} from "../../scripts/capacity-model";
import { reconnectArrivals, worstWindowShare } from "../../scripts/capacity-storm";
import { clientHashes, growTree, type TreeShape } from "../../scripts/capacity-tree";
import { readConfig } from "../../src/config";
import { SUPPORTED_CURRENCIES } from "../../src/protocol/currencies";
import * as topology from "../../src/relay/topology";
import { DEFAULT_BACKOFF } from "../../src/sdk/backoff";
import { DEFAULT_TIMING } from "../../src/sdk/transport";
import { leaseMs } from "../../src/session/session-state";

const RULES = { splitWays: topology.SPLIT_WAYS, maxDepth: topology.MAX_DEPTH, shouldSplit: topology.shouldSplit };
const CODE: CodeConstants = codeConstants({ topology, config: readConfig({}), backoff: DEFAULT_BACKOFF, leaseMs });

const hashes = new Map<number, Uint32Array>();

/** The tree of `clients` seeded random ids (their hashes computed once per size: a million take seconds). */
function treeOf(clients: number, chunk = CODE.fanoutChunk): TreeShape {
  let sorted = hashes.get(clients);
  if (!sorted) {
    sorted = clientHashes(clients, 7, topology.hashClientId);
    hashes.set(clients, sorted);
  }
  return growTree(sorted, chunk, RULES);
}

function shareFor(code: CodeConstants, assumptions: Assumptions = DEFAULT_ASSUMPTIONS): number {
  const arrivals = reconnectArrivals({
    backoff: code.backoff,
    outageMs: assumptions.deployOutageMs.value,
    failMs: assumptions.failedAttemptMs.value,
    binMs: 5,
  });
  return worstWindowShare(arrivals, STORM_WINDOW_MS);
}

function rowFor(clients: number, overrides: Partial<CodeConstants> = {}, assumptions = DEFAULT_ASSUMPTIONS) {
  const code = { ...CODE, ...overrides };
  return capacityRow({
    tree: treeOf(clients, code.fanoutChunk),
    expectedLeafDepth: topology.expectedLeafDepth(clients, code.fanoutChunk),
    stormWindowShare: shareFor(code, assumptions),
    code,
    assumptions,
    hubBytesPerTick: hubBytesPerTick(SUPPORTED_CURRENCIES),
  });
}

/** The tree as the shards themselves would grow it: the code's splitMembers, member list by member list. */
function referenceTree(ids: string[], chunk: number) {
  const leaves: { prefix: string; members: number }[] = [];
  const shards: string[] = [];
  const grow = (prefix: string, members: string[]) => {
    shards.push(prefix);
    if (!topology.shouldSplit(prefix, members.length, chunk)) {
      leaves.push({ prefix, members: members.length });
      return;
    }
    for (const [child, group] of topology.splitMembers(prefix, members)) grow(child, group);
  };
  grow(topology.ROOT, ids);
  return { leaves, shards };
}

describe("the model reads the code's own constants", () => {
  it("takes the chunk, the interval, the lease and the backoff from src/", () => {
    const config = readConfig({});
    expect(CODE.fanoutChunk).toBe(config.fanoutChunk);
    expect(CODE.pollIntervalMs).toBe(config.pollIntervalMs);
    expect(CODE.splitWays).toBe(topology.SPLIT_WAYS);
    expect(CODE.maxDepth).toBe(topology.MAX_DEPTH);
    expect(CODE.leaseMs).toBe(leaseMs(config.clientTtlS * 1000));
    expect(CODE.backoff).toEqual(DEFAULT_BACKOFF);
  });

  it("models the backoff the client library actually uses", () => {
    // The CLI imports backoff.ts (type stripping cannot load transport.ts): the two must agree.
    expect(DEFAULT_TIMING.backoff).toEqual(DEFAULT_BACKOFF);
    // HOW_THE_ROWS_COUNT states the deploy storm's premise with this number.
    expect(HOW_THE_ROWS_COUNT.join(" ")).toContain(`stableAfterMs (${DEFAULT_TIMING.stableAfterMs / 1000} s)`);
  });
});

describe("growTree", () => {
  it("grows the tree the shards grow with the code's split rule", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 1500 }),
        fc.integer({ min: 1, max: 120 }),
        (rawIds, chunk) => {
          const ids = [...new Set(rawIds)];
          const hashes = Uint32Array.from(ids.map(topology.hashClientId)).sort();
          const tree = growTree(hashes, chunk, RULES);
          const ref = referenceTree(ids, chunk);
          expect(tree.shards).toBe(ref.shards.length);
          expect(tree.leaves).toBe(ref.leaves.length);
          expect(tree.busiestLeaf).toBe(Math.max(...ref.leaves.map((l) => l.members)));
          expect(tree.depth).toBe(Math.max(...ref.leaves.map((l) => l.prefix.length)));
          ref.leaves.forEach((l) => {
            expect(tree.clientsByLeafDepth[l.prefix.length]).toBeGreaterThanOrEqual(l.members);
          });
          expect(tree.shardsByDepth.reduce((a, b) => a + b, 0)).toBe(tree.shards);
          expect(tree.clientsByLeafDepth.reduce((a, b) => a + b, 0)).toBe(ids.length);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("puts a hash on the boundary between two children in the later one, as clientPath's digits do", () => {
    const hashes = Uint32Array.from([0x0fffffff, 0x10000000, 0x1fffffff, 0x20000000, 0xffffffff]);
    const tree = growTree(hashes, 1, RULES);
    // Five clients over four top digits (0, 1, 2, f): the root splits; digit 1 holds two and splits again.
    expect(tree.shardsByDepth.slice(0, 2)).toEqual([1, 4]);
    expect(tree.clientsByLeafDepth[1]).toBe(3);
    expect(tree.busiestLeaf).toBe(1);
  });

  it("keeps every leaf within a chunk, and sits near expectedLeafDepth", () => {
    for (const [clients, chunk] of [
      [1_000, 500],
      [20_000, 500],
      [100_000, 500],
      [100_000, 1000],
      [50_000, 64],
    ] as const) {
      const tree = treeOf(clients, chunk);
      expect(tree.busiestLeaf).toBeLessThanOrEqual(chunk);
      expect(Math.abs(tree.depth - topology.expectedLeafDepth(clients, chunk))).toBeLessThanOrEqual(1);
    }
  });
});

describe("the reconnect storm", () => {
  it("puts all of a uniform first retry within a second when the base is at most a second", () => {
    fc.assert(
      fc.property(fc.integer({ min: 50, max: 8000 }), (baseMs) => {
        const share = shareFor({ ...CODE, backoff: { baseMs, maxMs: 30_000 } });
        expect(share).toBeCloseTo(Math.min(1, STORM_WINDOW_MS / baseMs), 2);
      }),
      { numRuns: 40 },
    );
  });

  it("during an outage, retries back off: nothing lands before it ends and every client comes back", () => {
    const arrivals = reconnectArrivals({ backoff: DEFAULT_BACKOFF, outageMs: 3000, failMs: 50, binMs: 5 });
    const total = arrivals.mass.reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 6);
    const early = arrivals.mass.slice(0, 3000 / 5).reduce((a, b) => a + b, 0);
    expect(early).toBe(0);
    // Spread over the widening backoff windows: no second holds them all.
    expect(worstWindowShare(arrivals, STORM_WINDOW_MS)).toBeLessThan(1);
  });
});

const leafStorm = (row: ReturnType<typeof rowFor>) => row.storm.byObject.find((l) => l.kind === "leaf")!.calls;

describe("rows", () => {
  it("the storm's leaf peak follows the busiest leaf, which the chunk only bounds", () => {
    // 100,000 clients: 16² = 256 leaves of ~390 fit a chunk of 500 or 1,000 (the same tree);
    // a chunk of 250 splits them once more.
    const quarter = rowFor(100_000, { fanoutChunk: 250 });
    const half = rowFor(100_000, { fanoutChunk: 500 });
    const whole = rowFor(100_000, { fanoutChunk: 1000 });
    expect(half.tree.depth).toBe(2);
    expect(whole.tree).toEqual(half.tree);
    expect(leafStorm(whole)).toBeCloseTo(leafStorm(half), 6);
    expect(quarter.tree.depth).toBe(3);
    expect(leafStorm(quarter)).toBeLessThan(leafStorm(half) / 4);
    // 10,000 clients: a chunk of 500 needs two levels (256 leaves of ~39); 1,000 one (16 of ~625).
    const small = rowFor(10_000, { fanoutChunk: 500 });
    const large = rowFor(10_000, { fanoutChunk: 1000 });
    expect(large.tree.depth).toBe(1);
    expect(leafStorm(large)).toBeGreaterThan(5 * leafStorm(small));
    expect(leafStorm(large)).toBeLessThanOrEqual(1000 + 10);
  });

  it("every reconnect of the busiest leaf lands in the worst second; a longer first retry spreads them", () => {
    const row = rowFor(100_000);
    const slow = rowFor(100_000, { backoff: { baseMs: 4000, maxMs: 30_000 } });
    const reconnects = leafStorm(row) - leafStorm(slow);
    // base 500 ms: all of them in one second; base 4 s: a quarter.
    expect(reconnects).toBeCloseTo(row.tree.busiestLeaf * (1 - 0.25), 0);
  });

  it("never makes the hub pay for a connect or a reconnect, and stays within the subrequest limit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 16, max: 2000 }), (clients, chunk) => {
        const row = rowFor(clients, { fanoutChunk: chunk });
        expect(row.hubCallsPerConnect).toBe(0);
        expect(row.hubCallsPerReconnect).toBe(0);
        expect(row.subrequests.busiest.calls).toBeLessThanOrEqual(Math.max(chunk, 64));
        expect(row.hub.bytesGrowWithClients).toBe(false);
      }),
      { numRuns: 25 },
    );
  });

  it("meets the targets at a million clients with the code's defaults", { timeout: 30_000 }, () => {
    const row = rowFor(1_000_000);
    for (const check of checkTargets(row)) expect(check, check.what).toMatchObject({ met: true });
  });

  it("sends new sessions without a hint through the root, and hinted ones straight to their depth", () => {
    const tree = treeOf(200_000);
    const hint = topology.expectedLeafDepth(200_000, CODE.fanoutChunk);
    expect(arrivalRegistersPerShard(tree, 0, hint, 100, 1, 16)).toBeCloseTo(100, 6);
    expect(arrivalRegistersPerShard(tree, 0, hint, 100, 0, 16)).toBe(0);
    expect(extraRegistersPerNewSession(tree, hint, 1)).toBeCloseTo(hint, 1);
    // Every one of them ends on its leaf: 10,000 clients have all theirs at depth 2 (256 leaves).
    const even = treeOf(10_000);
    expect(even.clientsByLeafDepth).toEqual([0, 0, 10_000]);
    expect(arrivalRegistersPerShard(even, 2, 2, 256, 1, 16)).toBeCloseTo(1, 6);
    expect(arrivalRegistersPerShard(even, 2, 2, 256, 0, 16)).toBeCloseTo(1, 6);
    expect(extraRegistersPerNewSession(tree, hint, 0)).toBeLessThan(0.5);
  });

  it("costs more per client when polls come twice as often, mostly in requests and rows written", () => {
    const base = rowFor(50_000).usdPerClientMonth;
    const fast = rowFor(50_000, { pollIntervalMs: 2500 }).usdPerClientMonth;
    expect(fast.requests).toBeGreaterThan(1.8 * base.requests);
    // The shards' copies of the history grow with the polls; the sessions' leases do not.
    expect(fast.rowsWritten).toBeGreaterThan(base.rowsWritten);
    expect(fast.duration).toBeGreaterThan(base.duration);
  });

  it("assumptions change what they say they change", { timeout: 30_000 }, () => {
    const lessHint = withAssumptions({ noHintShare: 0.5 });
    expect(lessHint.noHintShare.value).toBe(0.5);
    expect(lessHint.tickShare).toBe(DEFAULT_ASSUMPTIONS.tickShare);
    const root = (a: Assumptions) => rowFor(1_000_000, {}, a).steady.byObject.find((l) => l.object === "root shard")!;
    expect(root(lessHint).calls).toBeGreaterThan(4 * root(DEFAULT_ASSUMPTIONS).calls);
  });

  it("writes the fields --json promises", () => {
    const json = jsonRow(rowFor(1000)) as Record<string, unknown>;
    for (const key of JSON_FIELDS) expect(typeof json[key], key).toBe("number");
  });
});

/**
 * `npm run capacity -- --measure`: the model's counts for one local run, and the comparison with
 * what the running feed counted (GET /health: `hub_calls`, and `last_fanout` with its shape and
 * `shardCalls`). Pure: bench/capacity-measure.mjs takes the snapshots and prints the verdicts.
 *
 * Imports only types (see capacity-tree.ts): the design's call counts come in as an argument.
 */
import type { DESIGN_CALLS } from "./capacity-model";
import type { TreeShape } from "./capacity-tree";

export type Counts = Record<string, number>;

/** One reading of /health. */
export interface Snapshot {
  atMs: number;
  /** Calls the hub served since it started, by method. */
  hubCalls: Counts;
  /** Calls all shards served since their instances started (sum), by method. */
  shardTotals: Counts;
  /** The most one shard served, by method. */
  shardMax: Counts;
  shape: { shards: number; leaves: number; depth: number; maxMembers: number };
}

/** A phase (connects, a steady window, reconnects) and a quiet window after it that gives the background rates. */
export interface Phase {
  before: Snapshot;
  after: Snapshot;
  quietBefore: Snapshot;
  quietAfter: Snapshot;
}

export interface MeasuredRun {
  clients: number;
  intervalMs: number;
  connect: Phase;
  steady: { before: Snapshot; after: Snapshot };
  /** After a restart on the same persist folder: every client reconnecting once. */
  reconnect: Phase;
  reconnected: number;
}

export interface Prediction {
  shape: Snapshot["shape"];
  deliverPerShardPerPoll: number;
  hubCallsPerConnect: number;
  hubCallsPerReconnect: number;
  registersPerConnect: { min: number; max: number };
  registersPerReconnect: number;
  catchUpReadsPerReconnect: number;
  adoptMembers: { min: number; max: number };
}

/** What the model says this run will count: the tree of these very clients, and the design's calls. */
export function predictRun(tree: TreeShape, calls: typeof DESIGN_CALLS, splitWays: number): Prediction {
  return {
    shape: { shards: tree.shards, leaves: tree.leaves, depth: tree.depth, maxMembers: tree.busiestLeaf },
    deliverPerShardPerPoll: calls.shardDeliverPerPoll,
    hubCallsPerConnect: calls.newClient.hub,
    hubCallsPerReconnect: calls.reconnect.hub,
    // A new session registers on its leaf, plus once per level it starts above or below it.
    registersPerConnect: {
      min: calls.newClient.register,
      max: calls.newClient.register + calls.newClient.extraRegisterPerLevelOff * (tree.depth + 1),
    },
    registersPerReconnect: calls.reconnect.registerAfterRestart,
    catchUpReadsPerReconnect: calls.reconnect.catchUpReads,
    // Each split hands its members to the children they hash to: at least one, at most every child.
    adoptMembers: { min: tree.interior, max: tree.interior * splitWays },
  };
}

const sum = (c: Counts) => Object.values(c).reduce((a, b) => a + b, 0);

function delta(a: Counts, b: Counts): Counts {
  const out: Counts = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) out[key] = (b[key] ?? 0) - (a[key] ?? 0);
  return out;
}

/**
 * Calls a phase caused, by method: what it counted minus what the same time costs without it (the
 * polls, the bench's own /health reads), measured in the quiet window after it.
 */
export function attributable(phase: Phase, pick: (s: Snapshot) => Counts): Counts {
  const during = delta(pick(phase.before), pick(phase.after));
  const quiet = delta(pick(phase.quietBefore), pick(phase.quietAfter));
  const duringMs = phase.after.atMs - phase.before.atMs;
  const quietMs = Math.max(1, phase.quietAfter.atMs - phase.quietBefore.atMs);
  const out: Counts = {};
  for (const key of new Set([...Object.keys(during), ...Object.keys(quiet)])) {
    out[key] = (during[key] ?? 0) - ((quiet[key] ?? 0) * duringMs) / quietMs;
  }
  return out;
}

export interface Verdict {
  what: string;
  model: string;
  measured: string;
  ok: boolean;
}

/** Absolute tolerance on "none per client": background noise the quiet window did not remove. */
export const NONE_PER_CLIENT = 0.02;
/** Relative tolerance on counts that follow the polls. */
export const PER_POLL = 0.1;

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3));
const range = (r: { min: number; max: number }) => `${fmt(r.min)}–${fmt(r.max)}`;

const near = (what: string, model: number, measured: number, tolerance: number): Verdict => ({
  what,
  model: fmt(model),
  measured: fmt(measured),
  ok: Math.abs(measured - model) <= tolerance,
});

const within = (what: string, model: { min: number; max: number }, measured: number, slack = 0): Verdict => ({
  what,
  model: range(model),
  measured: fmt(measured),
  ok: measured >= model.min - slack && measured <= model.max,
});

/** Calls a phase caused on one side (the hub, or the shards by method), per client. */
function perClient(phase: Phase, pick: (s: Snapshot) => Counts, clients: number, methods?: string[]): number {
  const counts = attributable(phase, pick);
  const total = methods ? methods.reduce((a, m) => a + (counts[m] ?? 0), 0) : sum(counts);
  return total / Math.max(1, clients);
}

export function compareRun(model: Prediction, run: MeasuredRun): Verdict[] {
  const shape = run.steady.after.shape;
  const out: Verdict[] = (["shards", "leaves", "depth", "maxMembers"] as const).map((key) =>
    near(`tree: ${key}`, model.shape[key], shape[key], 0),
  );

  // The hub's alarms are its polls: on a loaded machine they come slower than the interval says.
  const alarms = delta(run.steady.before.hubCalls, run.steady.after.hubCalls).alarm ?? 0;
  const polls = alarms > 0 ? alarms : (run.steady.after.atMs - run.steady.before.atMs) / run.intervalMs;
  const delivers = delta(run.steady.before.shardTotals, run.steady.after.shardTotals).deliver ?? 0;
  const perShard = delivers / Math.max(1, polls) / Math.max(1, shape.shards);
  out.push(near("deliver per shard per poll (steady)", model.deliverPerShardPerPoll, perShard, PER_POLL));
  const busiest = (delta(run.steady.before.shardMax, run.steady.after.shardMax).deliver ?? 0) / Math.max(1, polls);
  out.push({
    ...near("deliver to the busiest shard per poll (steady, at most)", model.deliverPerShardPerPoll, busiest, 0),
    ok: busiest <= model.deliverPerShardPerPoll * (1 + 1 / Math.max(1, polls)),
  });

  const hub = (s: Snapshot) => s.hubCalls;
  const shards = (s: Snapshot) => s.shardTotals;
  out.push(
    near("hub calls per connect", model.hubCallsPerConnect, perClient(run.connect, hub, run.clients), NONE_PER_CLIENT),
    within(
      "registers per connect",
      model.registersPerConnect,
      perClient(run.connect, shards, run.clients, ["register"]),
      PER_POLL,
    ),
    within(
      "adoptMembers calls while the tree grew (one per child a split hands members to)",
      model.adoptMembers,
      Math.round(perClient(run.connect, shards, 1, ["adoptMembers"])),
    ),
    near(
      "hub calls per reconnect after a restart",
      model.hubCallsPerReconnect,
      perClient(run.reconnect, hub, run.reconnected),
      NONE_PER_CLIENT,
    ),
    near(
      "registers per reconnect after a restart",
      model.registersPerReconnect,
      perClient(run.reconnect, shards, run.reconnected, ["register"]),
      PER_POLL * Math.max(1, model.registersPerReconnect),
    ),
    near(
      "history reads on shards per reconnect (the catch-up comes with the register)",
      model.catchUpReadsPerReconnect,
      perClient(run.reconnect, shards, run.reconnected, ["ticksAfter", "ticksSince"]),
      NONE_PER_CLIENT,
    ),
  );
  return out;
}

/** Reads one /health body into a Snapshot; null (with the reason) when it lacks the tree's counters. */
export function snapshotOf(health: unknown, atMs: number): { snapshot: Snapshot } | { missing: string } {
  const h = health as {
    hub_calls?: unknown;
    last_fanout?: {
      shards?: unknown;
      leaves?: unknown;
      depth?: unknown;
      maxMembers?: unknown;
      shardCalls?: Record<string, { total?: unknown; max?: unknown }>;
    } | null;
  };
  if (!h || typeof h !== "object") return { missing: "/health did not answer with JSON" };
  if (!h.hub_calls || typeof h.hub_calls !== "object") return { missing: "/health has no hub_calls" };
  const f = h.last_fanout;
  if (!f || typeof f !== "object") return { missing: "/health has no last_fanout yet" };
  if (!f.shardCalls || typeof f.shardCalls !== "object") return { missing: "last_fanout has no shardCalls" };
  const numbers = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === "number"));
  const shardTotals: Counts = {};
  const shardMax: Counts = {};
  for (const [method, c] of Object.entries(f.shardCalls)) {
    if (typeof c?.total === "number") shardTotals[method] = c.total;
    if (typeof c?.max === "number") shardMax[method] = c.max;
  }
  const n = (v: unknown) => (typeof v === "number" ? v : Number.NaN);
  return {
    snapshot: {
      atMs,
      hubCalls: numbers(h.hub_calls),
      shardTotals,
      shardMax,
      shape: { shards: n(f.shards), leaves: n(f.leaves), depth: n(f.depth), maxMembers: n(f.maxMembers) },
    },
  };
}

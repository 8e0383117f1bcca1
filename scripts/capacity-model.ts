/**
 * The capacity model behind `npm run capacity`: what the fan-out tree (docs/design/fanout.md) costs
 * each object, each invocation and each client, at a given number of clients, from
 *
 *   - the code's own constants (CodeConstants: the tree's shape, the config's defaults, the client
 *     library's backoff, the session's lease), passed in by the caller;
 *   - the platform's documented limits and prices (PLATFORM, PRICES), each with its source;
 *   - the calls the design makes per event (DESIGN_CALLS, the table in docs/design/fanout.md);
 *   - stated assumptions (Assumptions) for what neither the code nor the docs fix: how often clients
 *     come and go, how many Worker isolates know the tree's depth, per-hop costs.
 *
 * Pure: the tree (capacity-tree.ts) and the reconnect storm's shape (capacity-storm.ts) come in as
 * arguments, and this file imports only their types, so Node (types stripped) and the Workers test
 * pool both load it.
 */
import type { TreeShape } from "./capacity-tree";

// ---- facts ---------------------------------------------------------------------------------------

export interface Fact {
  value: number;
  source: string;
  note: string;
}

const DO_LIMITS = "https://developers.cloudflare.com/durable-objects/platform/limits/";
const DO_PRICING = "https://developers.cloudflare.com/durable-objects/platform/pricing/";
const WORKERS_LIMITS = "https://developers.cloudflare.com/workers/platform/limits/#subrequests";

/** The platform's documented limits the rows are checked against. */
export const PLATFORM = {
  objectRequestsPerSecond: {
    value: 1000,
    source: DO_LIMITS,
    note:
      'FAQ "How much work can a single Durable Object do?": a soft limit of 1,000 requests per second per ' +
      "object; past it callers get overloaded errors",
  },
  subrequestsPerInvocation: {
    value: 10_000,
    source: WORKERS_LIMITS,
    note: "Workers Paid: 10,000 subrequests per invocation by default (limits.subrequests raises it); each RPC counts",
  },
  cpuMsPerInvocation: {
    value: 30_000,
    source: DO_LIMITS,
    note: "CPU per request: 30 s by default (limits.cpu_ms, up to 5 minutes)",
  },
  memoryMbPerObject: {
    value: 128,
    source: DO_PRICING,
    note: "duration is billed for the 128 MB an object is allocated, whatever it uses",
  },
} as const satisfies Record<string, Fact>;

/** Prices on the Workers Paid plan (marginal: the monthly allowances and the $5 minimum are left out). */
export const PRICES = {
  requestsPerMillion: {
    value: 0.15,
    source: DO_PRICING,
    note: "Durable Object requests: every RPC method call, HTTP request and alarm invocation is one",
  },
  incomingWebSocketMessagesPerRequest: {
    value: 20,
    source: DO_PRICING,
    note: "incoming WebSocket messages are billed 20:1; outgoing ones and protocol pings are free",
  },
  durationPerMillionGbS: {
    value: 12.5,
    source: DO_PRICING,
    note: "wall-clock time while an object runs or is idle but cannot hibernate, at 128 MB",
  },
  rowsWrittenPerMillion: {
    value: 1.0,
    source: DO_PRICING,
    note: "SQLite storage: each setAlarm() is a row written, deletes count as rows written",
  },
  storedGbMonth: { value: 0.2, source: DO_PRICING, note: "SQL stored data" },
  workerRequestsPerMillion: {
    value: 0.3,
    source: "https://developers.cloudflare.com/workflows/reference/pricing/",
    note: "Workers Standard requests (that page states Workflows is priced exactly as Workers Standard)",
  },
  workerCpuPerMillionMs: {
    value: 0.02,
    source: "https://developers.cloudflare.com/workflows/reference/pricing/",
    note: "Workers Standard CPU time",
  },
  indexRowsPerWrite: {
    value: 1,
    source: "https://developers.cloudflare.com/d1/platform/pricing/#frequently-asked-questions",
    note:
      "writing an indexed column adds at least one row written (D1's rule; Durable Objects' SQLite rows are " +
      "billed at D1's rates)",
  },
} as const satisfies Record<string, Fact>;

/** A storage write holds the object's outgoing messages until it is durable: a write before a call costs a flush. */
export const OUTPUT_GATE_SOURCE = "https://blog.cloudflare.com/durable-objects-easy-fast-correct-choose-three/";

/**
 * Calls per event in the design (docs/design/fanout.md, "Calls, per event and per client"). The rows
 * count with these; `npm run capacity -- --measure` checks them against a running feed.
 */
export const DESIGN_CALLS = {
  /** The hub per poll: its alarm; it calls the root once (a tick or a beat), awaiting nothing. */
  hubPerPoll: { alarm: 1, deliverToRoot: 1 },
  /** The cron's watchdog (wrangler.toml, "* * * * *"): one ensureRunning a minute. */
  hubWatchdogPerMinute: 1,
  /** Every shard gets at most one deliver per event. */
  shardDeliverPerPoll: 1,
  /** A session gets a receive per tick, and per beat when quiet for a while: at most one per poll. */
  sessionReceivePerPoll: 1,
  /** A new client: one register on its leaf (+1 per level when it starts above or below it), one session fetch. */
  newClient: { hub: 0, register: 1, extraRegisterPerLevelOff: 1, sessionFetch: 1 },
  /** A reconnect: a session fetch; after a restart also one register with catch-up on its leaf. */
  reconnect: { hub: 0, sessionFetch: 1, registerAfterRestart: 1, catchUpReads: 0 },
  /** A lease (per client): the session's alarm and one register on its leaf. */
  lease: { hub: 0, register: 1, sessionAlarm: 1 },
  /** A shard created: adoptChild on its parent and its history copied page by page (the root's from the hub). */
  shardCreated: { adoptChild: 1, snapshot: 1 },
} as const;

/** The methods a shard serves, as the feed counts them in /health (last_fanout.shardCalls). */
export const SHARD_METHODS = [
  "deliver",
  "register",
  "unregister",
  "adoptChild",
  "adoptMembers",
  "ticksAfter",
  "ticksSince",
  "snapshot",
] as const;

/**
 * What the hub holds per tick, in bytes of JSON: the event it hands the root (a tick with a price in
 * every currency) and the fan-out report it keeps for /health. Neither depends on the clients.
 */
export function hubBytesPerTick(currencies: readonly string[]): number {
  const prices = Object.fromEntries(currencies.map((c, i) => [c, 100_000.12 + i]));
  const tick = {
    seq: 1_000_000_000,
    tsMs: 1_800_000_000_000,
    prices,
    changed: [...currencies],
    sources: ["bitstamp", "coinbase", "coindesk", "kraken"],
  };
  const event = { kind: "tick", tick, epoch: "0123456789abcdef" };
  const calls = Object.fromEntries(SHARD_METHODS.map((m) => [m, { total: 1_000_000_000, max: 1_000_000 }]));
  const report = {
    delivered: 10_000_000,
    failed: 0,
    gone: 0,
    shards: 100_000,
    leaves: 100_000,
    depth: 8,
    maxMembers: 1000,
    shardCalls: calls,
    seq: 1_000_000_000,
    durationMs: 1000,
  };
  return JSON.stringify(event).length + JSON.stringify(report).length;
}

// ---- inputs --------------------------------------------------------------------------------------

/** The code's constants the model reads (the CLI fills them from src/, see codeConstants). */
export interface CodeConstants {
  splitWays: number;
  maxDepth: number;
  fanoutChunk: number;
  pollIntervalMs: number;
  /** A leaf passes a beat on to its members only after this long without sending them anything. */
  heartbeatS: number;
  historyRetentionS: number;
  /** The page size of a history read (MAX_REPLAY). */
  maxReplay: number;
  /** A session's lease: it renews its registration this often while a socket is open. */
  leaseMs: number;
  backoff: { baseMs: number; maxMs: number };
  /** Upstream sources the hub polls, and how often the rate-limited one (CoinDesk) may be called. */
  priceSources: string[];
  coindeskMinIntervalMs: number;
}

/** What the modules under src/ export that the model needs (the CLI passes the modules themselves). */
export interface CodeModules {
  topology: { SPLIT_WAYS: number; MAX_DEPTH: number };
  config: {
    fanoutChunk: number;
    pollIntervalMs: number;
    heartbeatS: number;
    historyRetentionS: number;
    maxReplay: number;
    clientTtlS: number;
    priceSources: string[];
    coindeskMinIntervalMs: number;
  };
  backoff: { baseMs: number; maxMs: number };
  leaseMs(ttlMs: number): number;
}

export function codeConstants(code: CodeModules): CodeConstants {
  return {
    splitWays: code.topology.SPLIT_WAYS,
    maxDepth: code.topology.MAX_DEPTH,
    fanoutChunk: code.config.fanoutChunk,
    pollIntervalMs: code.config.pollIntervalMs,
    heartbeatS: code.config.heartbeatS,
    historyRetentionS: code.config.historyRetentionS,
    maxReplay: code.config.maxReplay,
    leaseMs: code.leaseMs(code.config.clientTtlS * 1000),
    backoff: { baseMs: code.backoff.baseMs, maxMs: code.backoff.maxMs },
    priceSources: [...code.config.priceSources],
    coindeskMinIntervalMs: code.config.coindeskMinIntervalMs,
  };
}

export interface Assumption {
  value: number;
  why: string;
}

/** What neither the code nor the platform's documents fix. Each is printed with the rows. */
export interface Assumptions {
  tickShare: Assumption;
  sessionMinutes: Assumption;
  reconnectsPerClientHour: Assumption;
  noHintShare: Assumption;
  noHintShareAfterDeploy: Assumption;
  deployOutageMs: Assumption;
  failedAttemptMs: Assumption;
  rpcHopMs: Assumption;
  flushMs: Assumption;
  cpuMsPerClientTick: Assumption;
  sessionActiveMsPerCall: Assumption;
  workerCpuMsPerConnect: Assumption;
  shardAlarmWritesPerTick: Assumption;
  sessionRowsPerLease: Assumption;
  registerRowsPerCall: Assumption;
  rowsPerConnect: Assumption;
  tickRowBytes: Assumption;
  monthDays: Assumption;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  tickShare: {
    value: 1,
    why:
      "share of polls whose price changed (a tick for every session; the rest are beats, which reach the shards " +
      "only): BTC moves within a 5 s poll nearly always, so every poll is counted as a tick",
  },
  sessionMinutes: {
    value: 30,
    why:
      "steady state: a client stays 30 minutes on average and is replaced by a new one, so N / 1,800 s new " +
      "sessions arrive each second (a client back after CLIENT_TTL_S is new too)",
  },
  reconnectsPerClientHour: {
    value: 1,
    why: "reconnects within CLIENT_TTL_S (network changes, sleeping laptops): a session fetch each, no shard call",
  },
  noHintShare: {
    value: 0.1,
    why:
      "share of new sessions whose Worker isolate has no depth hint yet (a fresh isolate): they start at the root. " +
      "The others start at the depth expectedLeafDepth(N) gives",
  },
  noHintShareAfterDeploy: {
    value: 1,
    why:
      "right after a deploy every isolate is fresh: every new session in the storm's worst second starts at the " +
      "root. Conservative: if an isolate learns the depth from the reconnects it passes on, it is hinted within " +
      "its first few, and this is nearer noHintShare",
  },
  deployOutageMs: {
    value: 0,
    why: "a deploy closes every socket and the new version accepts at once: every first retry succeeds",
  },
  failedAttemptMs: {
    value: 0,
    why: "a refused attempt fails at once (only matters with an outage)",
  },
  rpcHopMs: {
    value: 10,
    why:
      "one-way Durable Object → Durable Object call in production, including the network between their " +
      "locations: assumed, no published figure found. Locally (one machine) a hop costs well under 1 ms",
  },
  flushMs: {
    value: 7.5,
    why:
      `the hub and each shard write the tick before calling on, and the output gate (${OUTPUT_GATE_SOURCE}) ` +
      "holds those calls until the write is durable: 5–10 ms per flush, measured on a deployed Worker by a third " +
      "party (https://lumenize.com/blog/what-i-got-wrong-about-do-throughput)",
  },
  cpuMsPerClientTick: {
    value: 0.33,
    why:
      "measured locally: workerd CPU per tick / clients at 1,000 clients (bench/results/2026-12-06T12-13-24Z.json, " +
      "0.33 s per tick, hub + shards + sessions on one thread, a shared 2-core machine). Used as the time a leaf " +
      "takes to issue one call and a session's work per receive: an upper bound for either",
  },
  sessionActiveMsPerCall: {
    value: 2,
    why:
      "billed wall time of a session per receive, alarm or fetch: its CPU (see cpuMsPerClientTick) plus waiting " +
      "for its storage: assumed",
  },
  workerCpuMsPerConnect: {
    value: 1,
    why: "the Worker's CPU to validate an upgrade and pass it to the session: assumed",
  },
  shardAlarmWritesPerTick: {
    value: 1,
    why:
      "a shard's watchdog alarm (docs/design/fanout.md, Healing) is assumed re-armed at every deliver: one " +
      "setAlarm, one row written",
  },
  sessionRowsPerLease: {
    value: 2,
    why: "a lease renewal saves the session's record (one KV row) and sets its alarm (one row): src/session",
  },
  registerRowsPerCall: {
    value: 1,
    why:
      "a new member's register stores one member row on the leaf (no index assumed); a listed member registering " +
      "again (a lease, a reconnect) writes none: src/relay/member-table.ts",
  },
  rowsPerConnect: {
    value: 2,
    why: "a connect saves the session's record and, for a new session, sets its first alarm",
  },
  tickRowBytes: {
    value: 250,
    why: "a stored tick (seq, time, prices, sources) in a shard's copy of the history",
  },
  monthDays: {
    value: 30,
    why: "a month of 30 days, as in the examples of the Durable Objects pricing page",
  },
};

/** How the rows count, where the design leaves a choice open: printed with the rows, like the assumptions. */
export const HOW_THE_ROWS_COUNT = [
  "The tree is the one N clients grow and keep: nobody left (the tree never merges, so churn only adds shards).",
  "A Worker isolate with a hint hints expectedLeafDepth(N) (src/relay/topology.ts); a new session that starts " +
    "above its leaf is moved down, one below it is sent up (absent), one register per shard it calls.",
  "A session gets at most one receive per poll (a tick, or a beat when it has been quiet): the load counts one " +
    "per poll, the cost counts tickShare of them.",
  "The deploy: every client had been connected longer than the client library's stableAfterMs (10 s), so its " +
    "first retry is drawn with attempt 0; each reconnect is a session fetch and one register with its catch-up " +
    "in the answer (docs/design/fanout.md, Registering).",
  "The busiest interior shard at a depth carries that depth's average (arrivals spread evenly over its shards); " +
    "the busiest leaf is the fullest one of the grown tree.",
  "A new shard copies the history window from its parent in pages of MAX_REPLAY ticks, in one invocation.",
  "Costs are marginal: the plan's monthly allowances and its $5 minimum are left out; the Worker's requests are " +
    "counted at Workers Standard rates.",
];

/** Assumptions with some values replaced (the CLI's flags). */
export function withAssumptions(changes: Partial<Record<keyof Assumptions, number>>): Assumptions {
  const out = { ...DEFAULT_ASSUMPTIONS };
  for (const [key, value] of Object.entries(changes) as [keyof Assumptions, number][]) {
    out[key] = { ...out[key], value };
  }
  return out;
}

// ---- the rows ------------------------------------------------------------------------------------

/** The one-second window the storm's peak is counted in. */
export const STORM_WINDOW_MS = 1000;

export type ObjectKind = "hub" | "session" | "interior shard" | "leaf" | "invocation";

export interface ObjectLoad {
  kind: ObjectKind;
  object: string;
  calls: number;
}

export interface UsdBreakdown {
  total: number;
  requests: number;
  duration: number;
  rowsWritten: number;
  storage: number;
}

export interface CapacityRow {
  clients: number;
  chunk: number;
  /** expectedLeafDepth(N, chunk): what the Worker hints to new sessions. */
  expectedLeafDepth: number;
  tree: Omit<TreeShape, "clients" | "chunk">;
  hub: {
    /** Calls the hub serves per poll: its alarm, and the cron's watchdog once a minute. */
    callsInPerTick: number;
    /** Calls it makes per poll: one deliver to the root and the upstream fetches. */
    callsOutPerTick: number;
    /** Bytes it holds per tick: the event and the fan-out report; none of it grows with the clients. */
    bytesPerTick: number;
    bytesGrowWithClients: boolean;
  };
  steady: { busiest: ObjectLoad; byObject: ObjectLoad[] };
  storm: { worstWindowShare: number; busiest: ObjectLoad; byObject: ObjectLoad[] };
  subrequests: { busiest: ObjectLoad; byInvocation: ObjectLoad[] };
  hubCallsPerConnect: number;
  hubCallsPerReconnect: number;
  latency: { estimateMs: number; parts: { what: string; ms: number; from: string }[] };
  usdPerClientMonth: UsdBreakdown;
  /** The same month in a quiet market: every poll a beat, a session woken once per HEARTBEAT_S. */
  usdPerClientMonthQuiet: UsdBreakdown;
}

export interface RowInputs {
  tree: TreeShape;
  expectedLeafDepth: number;
  /** The largest share of the deploy's reconnects in any STORM_WINDOW_MS (capacity-storm.ts). */
  stormWindowShare: number;
  code: CodeConstants;
  assumptions: Assumptions;
  /** The hub's per-tick state: one event and one report (the CLI measures them from sample objects). */
  hubBytesPerTick: number;
}

const busiestOf = (loads: ObjectLoad[]): ObjectLoad => loads.reduce((a, b) => (b.calls > a.calls ? b : a));

/** Share of clients whose leaf depth L satisfies `test(L)`. */
function shareWhere(tree: TreeShape, test: (leafDepth: number) => boolean): number {
  if (tree.clients === 0) return 0;
  let n = 0;
  tree.clientsByLeafDepth.forEach((count, depth) => {
    if (test(depth)) n += count;
  });
  return n / tree.clients;
}

/**
 * Registers per second that new sessions bring to one shard at `depth` (on average over the shards
 * there): a session without a hint walks down from the root; one with a hint starts at `hint` and
 * walks down (moved) or up (absent) to its leaf, one register per shard it calls.
 */
export function arrivalRegistersPerShard(
  tree: TreeShape,
  depth: number,
  hint: number,
  arrivalsPerS: number,
  noHintShare: number,
  splitWays: number,
): number {
  const fromRoot = shareWhere(tree, (leaf) => depth <= leaf);
  const fromHint = shareWhere(tree, (leaf) => Math.min(hint, leaf) <= depth && depth <= Math.max(hint, leaf));
  return (arrivalsPerS * (noHintShare * fromRoot + (1 - noHintShare) * fromHint)) / splitWays ** depth;
}

/** Mean number of shards a new session calls beyond its leaf (the levels between where it starts and its leaf). */
export function extraRegistersPerNewSession(tree: TreeShape, hint: number, noHintShare: number): number {
  if (tree.clients === 0) return 0;
  let fromRoot = 0;
  let fromHint = 0;
  tree.clientsByLeafDepth.forEach((count, leaf) => {
    fromRoot += count * leaf;
    fromHint += count * Math.abs(leaf - hint);
  });
  return (noHintShare * fromRoot + (1 - noHintShare) * fromHint) / tree.clients;
}

/** Calls per second each kind of object serves in steady state. */
function steadyLoads(input: RowInputs, noHintShare: number): ObjectLoad[] {
  const { tree, code, assumptions: a } = input;
  const polls = 1000 / code.pollIntervalMs;
  const leasesPerClient = 1000 / code.leaseMs;
  const arrivals = tree.clients / (a.sessionMinutes.value * 60);
  const reconnects = (tree.clients * a.reconnectsPerClientHour.value) / 3600;
  const hint = input.expectedLeafDepth;
  const loads: ObjectLoad[] = [
    // Its alarm every poll, and the cron's watchdog once a minute.
    {
      kind: "hub",
      object: "hub",
      calls: polls * DESIGN_CALLS.hubPerPoll.alarm + DESIGN_CALLS.hubWatchdogPerMinute / 60,
    },
    {
      kind: "session",
      object: "session",
      calls:
        polls * DESIGN_CALLS.sessionReceivePerPoll +
        leasesPerClient * DESIGN_CALLS.lease.sessionAlarm +
        ((arrivals + reconnects) / Math.max(1, tree.clients)) * DESIGN_CALLS.newClient.sessionFetch,
    },
  ];
  // Interior shards, depth by depth (the root when the tree has more than one level).
  for (let depth = 0; depth < tree.depth; depth++) {
    if ((tree.shardsByDepth[depth] ?? 0) === 0) continue;
    const registers = arrivalRegistersPerShard(tree, depth, hint, arrivals, noHintShare, code.splitWays);
    loads.push({
      kind: "interior shard",
      object: depth === 0 ? "root shard" : `interior shard, depth ${depth}`,
      calls: polls * DESIGN_CALLS.shardDeliverPerPoll + registers,
    });
  }
  // The fullest leaf: its members' leases, and the new sessions that end there.
  const m = tree.busiestLeaf;
  loads.push({
    kind: "leaf",
    object: tree.depth === 0 ? "root shard (the only leaf)" : "busiest leaf",
    calls:
      polls * DESIGN_CALLS.shardDeliverPerPoll +
      m * leasesPerClient * DESIGN_CALLS.lease.register +
      (tree.clients > 0 ? (arrivals * m) / tree.clients : 0) * DESIGN_CALLS.newClient.register,
  });
  return loads;
}

/**
 * Calls each kind of object serves in the worst STORM_WINDOW_MS after a deploy: every client
 * reconnects per the client library's backoff; each reconnect is a session fetch and a register
 * with catch-up on its leaf; polls, leases and new sessions go on (the new ones without hints,
 * every Worker isolate being fresh).
 */
function stormLoads(input: RowInputs): ObjectLoad[] {
  const { tree, code, stormWindowShare } = input;
  const windowS = STORM_WINDOW_MS / 1000;
  const pollsPerS = 1000 / code.pollIntervalMs;
  // A window holds whole polls: at most this many delivers (and receives) reach one object.
  const pollsInWindow = Math.ceil(STORM_WINDOW_MS / code.pollIntervalMs);
  return steadyLoads(input, input.assumptions.noHintShareAfterDeploy.value).map((load) => {
    const perPoll =
      load.kind === "hub"
        ? DESIGN_CALLS.hubPerPoll.alarm
        : load.kind === "session"
          ? DESIGN_CALLS.sessionReceivePerPoll
          : DESIGN_CALLS.shardDeliverPerPoll;
    const other = (load.calls - pollsPerS * perPoll) * windowS;
    const calls = other + pollsInWindow * perPoll;
    if (load.kind === "session") return { ...load, calls: calls + DESIGN_CALLS.reconnect.sessionFetch };
    if (load.kind === "leaf") {
      const reconnecting = tree.busiestLeaf * stormWindowShare;
      const perReconnect = DESIGN_CALLS.reconnect.registerAfterRestart + DESIGN_CALLS.reconnect.catchUpReads;
      return { ...load, calls: calls + reconnecting * perReconnect };
    }
    return { ...load, calls };
  });
}

/** The most calls one invocation makes, per kind of invocation. */
function subrequestLoads(input: RowInputs): ObjectLoad[] {
  const { tree, code } = input;
  const historyTicks = Math.ceil((code.historyRetentionS * 1000) / code.pollIntervalMs);
  const historyPages = Math.ceil(historyTicks / code.maxReplay);
  const loads: ObjectLoad[] = [
    {
      kind: "invocation",
      object: "hub alarm (upstream fetches + root deliver)",
      calls: Math.ceil(upstreamFetchesPerPoll(code)) + DESIGN_CALLS.hubPerPoll.deliverToRoot,
    },
    { kind: "invocation", object: "leaf deliver (its members)", calls: tree.busiestLeaf },
    {
      kind: "invocation",
      object: "new shard filling its history (pages + adoptChild)",
      calls: historyPages + DESIGN_CALLS.shardCreated.adoptChild,
    },
    // A session without a hint: one register per level above its leaf, then its leaf.
    { kind: "invocation", object: "new session registering (walk from the root)", calls: tree.depth + 1 },
    { kind: "invocation", object: "Worker upgrade (the session's fetch)", calls: 1 },
  ];
  if (tree.interior > 0) {
    loads.push({ kind: "invocation", object: "interior deliver (its children)", calls: code.splitWays });
    loads.push({ kind: "invocation", object: "split (adoptMembers to each child)", calls: code.splitWays });
  }
  return loads;
}

/** Upstream fetches per poll (the rate-limited CoinDesk source at most every coindeskMinIntervalMs). */
function upstreamFetchesPerPoll(code: CodeConstants): number {
  const others = code.priceSources.filter((s) => s !== "coindesk").length;
  if (!code.priceSources.includes("coindesk")) return others;
  return others + Math.min(1, code.pollIntervalMs / Math.max(1, code.coindeskMinIntervalMs));
}

/** Tick → client latency: every hop's network and flush, the leaf's issuing of its calls, the session's work. */
function latency(input: RowInputs): CapacityRow["latency"] {
  const { tree, assumptions: a } = input;
  const depth = tree.depth;
  // hub → root, root → … → leaf (depth hops), leaf → session.
  const hops = depth + 2;
  // The hub and every shard on the path write before they call on; the session sends without a write.
  const flushes = depth + 2;
  const parts = [
    { what: `${hops} calls (hub → root → … → leaf → session)`, ms: hops * a.rpcHopMs.value, from: "assumed" },
    {
      what: `${flushes} storage flushes before calling on (output gate)`,
      ms: flushes * a.flushMs.value,
      from: "cited (third party)",
    },
    {
      what: `the busiest leaf issuing its ${tree.busiestLeaf} calls (the last member waits for all)`,
      ms: tree.busiestLeaf * a.cpuMsPerClientTick.value,
      from: "measured locally",
    },
    { what: "the session's work before its socket send", ms: a.cpuMsPerClientTick.value, from: "measured locally" },
  ];
  return { estimateMs: parts.reduce((s, p) => s + p.ms, 0), parts };
}

/**
 * Dollars per client-month at marginal prices. Busy: tickShare of the polls reach every session.
 * Quiet: nothing moves, the hub sends a beat every poll down the whole tree, and a leaf passes it on
 * to its members once per HEARTBEAT_S (src/relay/FanoutShard.ts).
 */
function costs(input: RowInputs, market: "busy" | "quiet"): UsdBreakdown {
  const { tree, code, assumptions: a } = input;
  const n = Math.max(1, tree.clients);
  const monthS = a.monthDays.value * 86_400;
  const polls = (monthS * 1000) / code.pollIntervalMs;
  const leases = (monthS * 1000) / code.leaseMs;
  const newSessions = monthS / (a.sessionMinutes.value * 60);
  const reconnects = (a.reconnectsPerClientHour.value * monthS) / 3600;
  const hintOff = extraRegistersPerNewSession(tree, input.expectedLeafDepth, a.noHintShare.value);

  // Requests, per client: its session's receives, alarms and fetches; its registers; its share of the shards' delivers.
  const receives = market === "quiet" ? monthS / code.heartbeatS : polls * a.tickShare.value;
  const sessionRequests = receives + leases * DESIGN_CALLS.lease.sessionAlarm + newSessions + reconnects;
  const registerRequests = leases * DESIGN_CALLS.lease.register + newSessions * (1 + hintOff);
  const shardRequests = (tree.shards * polls * DESIGN_CALLS.shardDeliverPerPoll) / n;
  const hubRequests = (polls * DESIGN_CALLS.hubPerPoll.alarm) / n;
  const requests =
    ((sessionRequests + registerRequests + shardRequests + hubRequests) / 1e6) * PRICES.requestsPerMillion.value;

  // Duration: a session is billed only while it handles a call (it hibernates between them); a shard
  // while it waits for the calls it made, i.e. for the fan-out below it.
  const gb = PLATFORM.memoryMbPerObject.value / 1000;
  const sessionSeconds = (sessionRequests * a.sessionActiveMsPerCall.value) / 1000;
  const fanoutBelow = (depthFromLeaf: number) =>
    depthFromLeaf * (2 * a.rpcHopMs.value + a.flushMs.value) +
    2 * a.rpcHopMs.value +
    a.flushMs.value +
    tree.busiestLeaf * a.cpuMsPerClientTick.value;
  let shardMsPerPoll = 0;
  tree.shardsByDepth.forEach((count, depth) => {
    shardMsPerPoll += count * fanoutBelow(Math.max(0, tree.depth - depth));
  });
  const shardSeconds = (polls * shardMsPerPoll) / 1000 / n;
  const duration = (((sessionSeconds + shardSeconds) * gb) / 1e6) * PRICES.durationPerMillionGbS.value;

  // Rows written: each shard's copy of the history (insert and retention delete, each with its index
  // row, plus the watchdog alarm), the session's lease and connects, the leaf's row for a new member.
  const perTickRows = 2 * (1 + PRICES.indexRowsPerWrite.value) + a.shardAlarmWritesPerTick.value;
  // A beat stores no tick: in a quiet market a shard only re-arms its watchdog.
  const perPollRows = market === "quiet" ? a.shardAlarmWritesPerTick.value : perTickRows;
  const shardRows = (tree.shards * polls * perPollRows) / n;
  const sessionRows =
    leases * a.sessionRowsPerLease.value +
    (newSessions + reconnects) * a.rowsPerConnect.value +
    newSessions * a.registerRowsPerCall.value;
  const rowsWritten = ((shardRows + sessionRows) / 1e6) * PRICES.rowsWrittenPerMillion.value;

  // Storage: every shard keeps the retention window of ticks.
  const historyTicks = (code.historyRetentionS * 1000) / code.pollIntervalMs;
  const storage = ((tree.shards * historyTicks * a.tickRowBytes.value) / 1e9 / n) * PRICES.storedGbMonth.value;

  // The Worker: one request per connect (its CPU is small), billed at Workers Standard rates.
  const connects = newSessions + reconnects;
  const worker =
    (connects / 1e6) * PRICES.workerRequestsPerMillion.value +
    ((connects * a.workerCpuMsPerConnect.value) / 1e6) * PRICES.workerCpuPerMillionMs.value;

  return {
    total: requests + worker + duration + rowsWritten + storage,
    requests: requests + worker,
    duration,
    rowsWritten,
    storage,
  };
}

export function capacityRow(input: RowInputs): CapacityRow {
  const { tree, code } = input;
  const steady = steadyLoads(input, input.assumptions.noHintShare.value);
  const storm = stormLoads(input);
  const subrequests = subrequestLoads(input);
  return {
    clients: tree.clients,
    chunk: tree.chunk,
    expectedLeafDepth: input.expectedLeafDepth,
    tree: {
      shards: tree.shards,
      leaves: tree.leaves,
      interior: tree.interior,
      depth: tree.depth,
      busiestLeaf: tree.busiestLeaf,
      shardsByDepth: tree.shardsByDepth,
      clientsByLeafDepth: tree.clientsByLeafDepth,
    },
    hub: {
      callsInPerTick:
        DESIGN_CALLS.hubPerPoll.alarm + (DESIGN_CALLS.hubWatchdogPerMinute * code.pollIntervalMs) / 60_000,
      callsOutPerTick: DESIGN_CALLS.hubPerPoll.deliverToRoot + upstreamFetchesPerPoll(code),
      bytesPerTick: input.hubBytesPerTick,
      bytesGrowWithClients: false,
    },
    steady: { busiest: busiestOf(steady), byObject: steady },
    storm: { worstWindowShare: input.stormWindowShare, busiest: busiestOf(storm), byObject: storm },
    subrequests: { busiest: busiestOf(subrequests), byInvocation: subrequests },
    hubCallsPerConnect: DESIGN_CALLS.newClient.hub,
    hubCallsPerReconnect: DESIGN_CALLS.reconnect.hub,
    latency: latency(input),
    usdPerClientMonth: costs(input, "busy"),
    usdPerClientMonthQuiet: costs(input, "quiet"),
  };
}

// ---- targets -------------------------------------------------------------------------------------

export const TARGETS = {
  clients: 1_000_000,
  steadyCallsPerS: 500,
  stormCallsPerS: 1000,
  subrequests: PLATFORM.subrequestsPerInvocation.value,
  hubCallsPerConnect: 0,
  hubCallsPerReconnect: 0,
};

export interface TargetCheck {
  what: string;
  target: string;
  value: number;
  met: boolean;
}

export function checkTargets(row: CapacityRow): TargetCheck[] {
  return [
    {
      what: `steady state, busiest object (${row.steady.busiest.object})`,
      target: `≤ ${TARGETS.steadyCallsPerS} calls/s`,
      value: row.steady.busiest.calls,
      met: row.steady.busiest.calls <= TARGETS.steadyCallsPerS,
    },
    {
      what: `deploy storm's worst second, busiest object (${row.storm.busiest.object})`,
      target: `≤ ${TARGETS.stormCallsPerS} calls`,
      value: row.storm.busiest.calls,
      met: row.storm.busiest.calls <= TARGETS.stormCallsPerS,
    },
    {
      what: `subrequests in one invocation (${row.subrequests.busiest.object})`,
      target: `≤ ${TARGETS.subrequests.toLocaleString("en-US")}`,
      value: row.subrequests.busiest.calls,
      met: row.subrequests.busiest.calls <= TARGETS.subrequests,
    },
    {
      what: "hub calls per connect",
      target: "0",
      value: row.hubCallsPerConnect,
      met: row.hubCallsPerConnect <= TARGETS.hubCallsPerConnect,
    },
    {
      what: "hub calls per reconnect",
      target: "0",
      value: row.hubCallsPerReconnect,
      met: row.hubCallsPerReconnect <= TARGETS.hubCallsPerReconnect,
    },
  ];
}

/** The numeric fields every row of `--json` has, whatever else it carries. */
export const JSON_FIELDS = [
  "clients",
  "busiest_calls_per_s",
  "storm_peak_calls_per_s",
  "subrequests_max",
  "hub_calls_per_connect",
  "hub_calls_per_reconnect",
  "usd_per_client_month",
] as const;

/** One row of `--json`: JSON_FIELDS, then the details. */
export function jsonRow(row: CapacityRow) {
  return {
    clients: row.clients,
    busiest_calls_per_s: row.steady.busiest.calls,
    busiest_object: row.steady.busiest.object,
    storm_peak_calls_per_s: row.storm.busiest.calls,
    storm_peak_object: row.storm.busiest.object,
    storm_worst_second_share: row.storm.worstWindowShare,
    subrequests_max: row.subrequests.busiest.calls,
    subrequests_max_invocation: row.subrequests.busiest.object,
    hub_calls_per_connect: row.hubCallsPerConnect,
    hub_calls_per_reconnect: row.hubCallsPerReconnect,
    hub_calls_in_per_tick: row.hub.callsInPerTick,
    hub_calls_out_per_tick: row.hub.callsOutPerTick,
    hub_bytes_per_tick: row.hub.bytesPerTick,
    latency_ms: row.latency.estimateMs,
    usd_per_client_month: row.usdPerClientMonth.total,
    usd_breakdown: row.usdPerClientMonth,
    usd_per_client_month_quiet: row.usdPerClientMonthQuiet.total,
    usd_breakdown_quiet: row.usdPerClientMonthQuiet,
    tree: { expected_leaf_depth: row.expectedLeafDepth, ...row.tree },
    steady_by_object: row.steady.byObject,
    storm_by_object: row.storm.byObject,
    subrequests_by_invocation: row.subrequests.byInvocation,
    latency_parts: row.latency.parts,
  };
}

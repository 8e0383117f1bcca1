#!/usr/bin/env node
/**
 * npm run capacity [-- --json] [-- --measure]: the capacity model of the fan-out tree at 1 thousand to
 * 10 million clients (docs/capacity.md). Run with Node 22, which strips the types: the code's own
 * constants are imported from src/ (the tree's shape, the config's defaults, the client library's
 * backoff, the session's lease), the computation is in capacity-model.ts and its neighbours.
 *
 * --measure checks the model's counts against a real local run (bench/capacity-measure.mjs).
 */
import { registerHooks } from "node:module";
import {
  capacityRow,
  checkTargets,
  codeConstants,
  DEFAULT_ASSUMPTIONS,
  HOW_THE_ROWS_COUNT,
  hubBytesPerTick,
  jsonRow,
  PLATFORM,
  PRICES,
  STORM_WINDOW_MS,
  TARGETS,
  withAssumptions,
  type Assumptions,
  type CapacityRow,
  type CodeConstants,
} from "./capacity-model.ts";
import { reconnectArrivals, timeToShareMs, worstWindowShare } from "./capacity-storm.ts";
import { clientHashes, growTree } from "./capacity-tree.ts";
import { parseOptions } from "./lib/args.mjs";

// src/ imports its neighbours without an extension (the bundler's resolution): let Node find the .ts.
registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (!specifier.startsWith(".") || /\.[cm]?[jt]s$/.test(specifier)) throw error;
      for (const candidate of [`${specifier}.ts`, `${specifier}/index.ts`]) {
        try {
          return nextResolve(candidate, context);
        } catch {
          // try the next spelling
        }
      }
      throw error;
    }
  },
});

const topology = await import("../src/relay/topology.ts");
const { readConfig } = await import("../src/config.ts");
const { DEFAULT_BACKOFF } = await import("../src/sdk/backoff.ts");
const { leaseMs } = await import("../src/session/session-state.ts");
const { SUPPORTED_CURRENCIES } = await import("../src/protocol/currencies.ts");

const DEFAULT_CLIENTS = [1_000, 10_000, 100_000, 1_000_000, 10_000_000];
const SEED = 20_261_201;

const HELP = `npm run capacity -- [options]
  --json                 the rows as a JSON array (fields: clients, busiest_calls_per_s,
                         storm_peak_calls_per_s, subrequests_max, hub_calls_per_connect,
                         hub_calls_per_reconnect, usd_per_client_month, and the details)
  --clients 1000,10000   client counts (default 1k, 10k, 100k, 1M, 10M)
  --chunk N              FANOUT_CHUNK instead of the config's default (to explore the shape)
  --assume NAME=VALUE    change assumptions (NAME=VALUE,NAME=VALUE); the names are listed in the output
  --measure              check the model's counts against a local run (wrangler dev, simulated
                         source; needs the fan-out tree's /health counters): see --measure --help
  --help`;

function fail(message: string): never {
  console.error(`capacity: ${message}\n${HELP}`);
  process.exit(2);
}

const OPTIONS = {
  json: { type: "boolean", default: false },
  clients: { type: "string", default: DEFAULT_CLIENTS.join(",") },
  chunk: { type: "string", default: "" },
  assume: { type: "string", default: "" },
};

export function modelRows(code: CodeConstants, assumptions: Assumptions, clients: number[]): CapacityRow[] {
  const arrivals = reconnectArrivals({
    backoff: code.backoff,
    outageMs: assumptions.deployOutageMs.value,
    failMs: assumptions.failedAttemptMs.value,
    binMs: 5,
  });
  const share = worstWindowShare(arrivals, STORM_WINDOW_MS);
  const bytes = hubBytesPerTick(SUPPORTED_CURRENCIES);
  return clients.map((n) => {
    const tree = growTree(clientHashes(n, SEED, topology.hashClientId), code.fanoutChunk, {
      splitWays: topology.SPLIT_WAYS,
      maxDepth: topology.MAX_DEPTH,
      shouldSplit: topology.shouldSplit,
    });
    return capacityRow({
      tree,
      expectedLeafDepth: topology.expectedLeafDepth(n, code.fanoutChunk),
      stormWindowShare: share,
      code,
      assumptions,
      hubBytesPerTick: bytes,
    });
  });
}

const int = (x: number) => Math.round(x).toLocaleString("en-US");
const num = (x: number, digits = 1) =>
  x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const usd = (x: number) => `$${x < 0.01 ? x.toFixed(4) : x.toFixed(3)}`;

function text(rows: CapacityRow[], code: CodeConstants, assumptions: Assumptions): string {
  const arrivals = reconnectArrivals({
    backoff: code.backoff,
    outageMs: assumptions.deployOutageMs.value,
    failMs: assumptions.failedAttemptMs.value,
    binMs: 5,
  });
  const out: string[] = [];
  out.push("# Capacity of the fan-out tree (docs/design/fanout.md, docs/capacity.md)", "");
  out.push(
    `Code (src/): FANOUT_CHUNK ${code.fanoutChunk}, ${code.splitWays}-way splits, MAX_DEPTH ${code.maxDepth} ` +
      `(relay/topology.ts); POLL_INTERVAL_MS ${code.pollIntervalMs}, HEARTBEAT_S ${code.heartbeatS}, ` +
      `HISTORY_RETENTION_S ${code.historyRetentionS}, ` +
      `MAX_REPLAY ${code.maxReplay}, sources ${code.priceSources.join(", ")} (config.ts defaults); ` +
      `lease ${code.leaseMs / 1000} s (session/session-state.ts); client backoff ${code.backoff.baseMs} ms base, ` +
      `${code.backoff.maxMs} ms max (sdk/backoff.ts).`,
  );
  out.push(
    `Tree: grown by the code's split rule from the hashes (hashClientId) of N random 22-character ids. ` +
      `Deploy storm: every socket closes at once; first retries are uniform in 0–${code.backoff.baseMs} ms, so ` +
      `${num(100 * worstWindowShare(arrivals, STORM_WINDOW_MS), 0)} % of the reconnects land in the worst ` +
      `second (99 % are back within ${int(timeToShareMs(arrivals, 0.99))} ms).`,
    "",
  );
  out.push(
    "| clients | leaf depth (expected / deepest) | shards | busiest leaf | hub calls in / out per tick | " +
      "hub bytes per tick | busiest object, steady (calls/s) | busiest object, storm's worst second (calls) | " +
      "most subrequests in one invocation | hub calls per connect / reconnect | tick → client (ms, est.) | " +
      "$ per client-month (busy / quiet) |",
  );
  out.push("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    out.push(
      `| ${int(r.clients)} | ${r.expectedLeafDepth} / ${r.tree.depth} | ${int(r.tree.shards)} | ` +
        `${int(r.tree.busiestLeaf)} | ${num(r.hub.callsInPerTick, 2)} / ${num(r.hub.callsOutPerTick, 2)} | ` +
        `${int(r.hub.bytesPerTick)} (fixed) | ${num(r.steady.busiest.calls)} (${r.steady.busiest.object}) | ` +
        `${num(r.storm.busiest.calls)} (${r.storm.busiest.object}) | ${int(r.subrequests.busiest.calls)} ` +
        `(${r.subrequests.busiest.object}) | ${r.hubCallsPerConnect} / ${r.hubCallsPerReconnect} | ` +
        `${int(r.latency.estimateMs)} | ${usd(r.usdPerClientMonth.total)} / ${usd(r.usdPerClientMonthQuiet.total)} |`,
    );
  }
  out.push("");
  const target = rows.find((r) => r.clients === TARGETS.clients);
  if (target) {
    out.push(`## Targets at ${int(TARGETS.clients)} clients`, "");
    for (const t of checkTargets(target)) {
      out.push(`- ${t.met ? "met" : "NOT MET"}: ${t.what}: ${num(t.value)} (target ${t.target})`);
    }
    out.push("");
  }
  out.push("## Per object (calls per second in steady state; calls in the storm's worst second)", "");
  for (const r of rows) {
    const storm = new Map(r.storm.byObject.map((l) => [l.object, l.calls]));
    const parts = r.steady.byObject.map(
      (l) => `${l.object} ${num(l.calls, 2)} / ${num(storm.get(l.object) ?? Number.NaN, 1)}`,
    );
    out.push(`- ${int(r.clients)}: ${parts.join("; ")}`);
  }
  out.push("", "## Tick → client latency, estimated (largest row)", "");
  const last = rows.at(-1);
  if (last) {
    for (const p of last.latency.parts) out.push(`- ${p.what}: ${num(p.ms)} ms (${p.from})`);
    out.push(`- total: ${num(last.latency.estimateMs)} ms; the client's own network comes on top`);
    out.push("", "## $ per client-month (marginal prices; the plan's allowances and $5 minimum left out)", "");
    out.push(
      `Busy: tickShare of the polls reach every session. Quiet: every poll is a beat down the tree, and a leaf ` +
        `wakes its members once per HEARTBEAT_S (${code.heartbeatS} s).`,
      "",
    );
    for (const r of rows) {
      for (const [label, c] of [
        ["busy", r.usdPerClientMonth],
        ["quiet", r.usdPerClientMonthQuiet],
      ] as const) {
        out.push(
          `- ${int(r.clients)}, ${label}: ${usd(c.total)} = requests ${usd(c.requests)} + ` +
            `duration ${usd(c.duration)} + rows written ${usd(c.rowsWritten)} + storage ${usd(c.storage)}`,
        );
      }
    }
  }
  out.push("", "## Platform facts (Workers Paid)", "");
  for (const f of Object.values(PLATFORM)) out.push(`- ${int(f.value)}: ${f.note} — ${f.source}`);
  out.push("", "## Prices", "");
  for (const f of Object.values(PRICES)) out.push(`- ${f.value}: ${f.note} — ${f.source}`);
  out.push("", "## How the rows count", "");
  for (const line of HOW_THE_ROWS_COUNT) out.push(`- ${line}`);
  out.push("", "## Assumptions (change them with --assume NAME=VALUE,NAME=VALUE)", "");
  for (const [name, a] of Object.entries(assumptions)) out.push(`- ${name} = ${a.value}: ${a.why}`);
  return out.join("\n");
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv.includes("--measure")) {
    // The measurement needs the bench's servers and clients (JavaScript under bench/).
    const measure = new URL("../bench/capacity-measure.mjs", import.meta.url).href;
    const { runMeasure } = await import(measure);
    process.exitCode = await runMeasure(argv.filter((a) => a !== "--measure"));
    return;
  }
  const values = parseOptions(argv, OPTIONS, { help: HELP });

  const config = readConfig({});
  const clients = String(values.clients)
    .split(",")
    .map((s) => Number(s.trim()));
  if (clients.some((n) => !Number.isInteger(n) || n < 1 || n > 50_000_000))
    fail(`--clients ${values.clients}: expected whole numbers from 1 to 50,000,000`);
  const chunk = values.chunk === "" ? config.fanoutChunk : Number(values.chunk);
  if (!Number.isInteger(chunk) || chunk < 1) fail(`--chunk ${values.chunk}: expected a positive whole number`);

  const changes: Partial<Record<keyof Assumptions, number>> = {};
  for (const item of String(values.assume).split(",").filter(Boolean)) {
    const [name, raw] = item.split("=");
    if (!name || !(name in DEFAULT_ASSUMPTIONS)) fail(`--assume ${item}: unknown name ${name}`);
    const value = Number(raw);
    if (raw === undefined || !Number.isFinite(value) || value < 0) fail(`--assume ${item}: expected NAME=number`);
    changes[name as keyof Assumptions] = value;
  }
  const assumptions = withAssumptions(changes);
  const code = {
    ...codeConstants({ topology, config, backoff: DEFAULT_BACKOFF, leaseMs }),
    fanoutChunk: chunk,
  };
  const rows = modelRows(code, assumptions, clients);
  if (values.json) console.log(JSON.stringify(rows.map(jsonRow), null, 2));
  else console.log(text(rows, code, assumptions));
}

await main();

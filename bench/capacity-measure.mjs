// npm run capacity -- --measure [--clients 1500 ...]: checks the capacity model's counts against a
// real local run. wrangler dev with the simulated source; N clients connect (each its own
// client_id), tick for a while, and reconnect after a restart on the same persist folder. The feed's
// own counters (GET /health: hub_calls by method, last_fanout's tree shape and shardCalls) are read
// around each phase and compared with what the model predicts for these very clients
// (scripts/capacity-compare.ts). Prints both; exits 1 on a mismatch, 3 when the running feed does
// not count calls yet (it needs the fan-out tree of docs/design/fanout.md).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compareRun, predictRun, snapshotOf } from "../scripts/capacity-compare.ts";
import { DESIGN_CALLS } from "../scripts/capacity-model.ts";
import { growTree } from "../scripts/capacity-tree.ts";
import { clientPath, hashClientId, MAX_DEPTH, SPLIT_WAYS, shouldSplit } from "../src/relay/topology.ts";
import { parseOptions } from "../scripts/lib/args.mjs";
import { connectAll, DrillClient } from "./lib/drill-client.mjs";
import { AddressPool } from "./lib/fleet.mjs";
import { getFrom, HealthAddresses } from "./lib/http.mjs";
import { installCleanup, killAllGroupsSync, sleep } from "./lib/procs.mjs";
import { buildWorker, FLOOR_CONFIG, startWorker } from "./lib/servers.mjs";
import { createStoragePlanner } from "./lib/storage.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const HELP = `npm run capacity -- --measure [options]
  --clients 1500     clients (1,000–2,000: enough for the tree to split, within this machine's files)
  --chunk 500        FANOUT_CHUNK of the run (default: the config's)
  --interval 1000    POLL_INTERVAL_MS of the run
  --window 10        seconds of each measured window (steady ticks, and the quiet ones after a phase)
  --storage auto     disk | tmpfs | auto (see bench/README.md)
  --worker feed      feed (the product) | floor (bench/floor, which counts its calls the same way: a
                     check of the measurement itself; its sessions never register again, so "registers
                     per reconnect" differs from the model there by design)
Needs the fan-out tree's counters in GET /health (hub_calls, last_fanout.shardCalls): exits 3 without them.`;

const OPTIONS = {
  clients: { type: "string", default: "1500" },
  chunk: { type: "string", default: "" },
  interval: { type: "string", default: "1000" },
  window: { type: "string", default: "10" },
  storage: { type: "string", default: "auto" },
  worker: { type: "string", default: "feed" },
};

const log = (msg) => console.error(`[measure ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/**
 * Reads /health until it has the tree's counters (or `timeoutMs` passes). The edge serves a copy at
 * most an interval old (X-Edge-Cache: memory or cache); a copy being refreshed (stale) may be older
 * and is not taken.
 */
async function snapshot(server, addresses, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let missing = "no answer";
  while (Date.now() < deadline) {
    try {
      const res = await getFrom(`${server.baseUrl}/health`, addresses.take());
      const source = res.headers["x-edge-cache"];
      if (source === "stale") {
        missing = `a cached /health (X-Edge-Cache: ${source})`;
        await sleep(200);
        continue;
      }
      const read = snapshotOf(JSON.parse(res.body), Date.now());
      if ("snapshot" in read) return read.snapshot;
      missing = read.missing;
    } catch (error) {
      missing = String(error.message ?? error);
    }
    await sleep(500);
  }
  const error = new Error(`no usable /health within ${timeoutMs / 1000} s: ${missing}`);
  error.missingCounters = /^\/health has no|^last_fanout has no/.test(missing);
  throw error;
}

export async function runMeasure(argv) {
  const opts = parseOptions(argv, OPTIONS, { help: HELP });
  const n = Number(opts.clients);
  const intervalMs = Number(opts.interval);
  const windowMs = Number(opts.window) * 1000;
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--clients ${opts.clients}: expected a whole number\n${HELP}`);
    return 2;
  }
  const { readConfig } = await import("../src/config.ts");
  const chunk = opts.chunk ? Number(opts.chunk) : readConfig({}).fanoutChunk;

  const runId = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const workDir = mkdtempSync(path.join(os.tmpdir(), `btc-measure-${runId}-`));
  const planner = createStoragePlanner({ runId, diskRoot: workDir, log });
  installCleanup(() => planner.cleanup());
  const storage = planner.resolve(opts.storage);
  if (!["feed", "floor"].includes(opts.worker)) {
    console.error(`--worker ${opts.worker}: expected feed or floor\n${HELP}`);
    return 2;
  }
  const floor = opts.worker === "floor";
  const config = floor ? FLOOR_CONFIG : "wrangler.toml";
  const build = buildWorker({ root, outDir: path.join(workDir, "build"), log, config });
  const start = () =>
    startWorker({
      kind: floor ? "floor" : "worker",
      config,
      root,
      workDir,
      persistRoot: storage.persistRoot,
      label: "measure",
      // A lease (max(CLIENT_TTL_S, 60 s)) beyond the run: no renewal lands in a window. Renewals come in
      // bursts (the clients connected together), so the quiet window cannot subtract them as a rate.
      vars: { CLIENT_TTL_S: "3600", FANOUT_CHUNK: String(chunk) },
      intervalMs,
      build,
      startTimeoutMs: 120_000,
      keepPersist: true,
      log,
    });

  const clients = Array.from({ length: n }, (_, i) => new DrillClient(i, runId, "last_seq"));
  const hashes = Uint32Array.from(clients.map((c) => hashClientId(c.clientId))).sort();
  const tree = growTree(hashes, chunk, { splitWays: SPLIT_WAYS, maxDepth: MAX_DEPTH, shouldSplit });
  const model = predictRun(tree, DESIGN_CALLS, SPLIT_WAYS);
  // A session's record names the shard it registered with; a split hands it down without telling it,
  // and its next lease (beyond this run) corrects the record. Until then a reconnect goes there first
  // and is moved down once per level: the run's clients joined in order, so that much is predictable.
  const stale = staleLevels(
    clients.map((c) => c.clientId),
    chunk,
  );
  model.registersPerReconnect += stale;
  const health = new HealthAddresses();
  const addresses = new AddressPool(1);
  let server = await start();
  try {
    // ── connects: from an empty tree (the root exists once the first poll reached it) ──
    const connectBefore = await snapshot(server, health);
    log(
      `connecting ${n} clients (model: ${tree.shards} shards, depth ${tree.depth}, fullest leaf ${tree.busiestLeaf})`,
    );
    await connectAll(clients, server.baseUrl, addresses, () => ({ currencies: "USD" }), {
      until: "live",
      concurrency: 64,
      timeoutMs: 120_000,
    });
    const notLive = clients.filter((c) => c.current.firstLiveAt === null).length;
    if (notLive > 0) throw new Error(`${notLive} clients got no live price`);
    await sleep(2 * intervalMs);
    const connectAfter = await snapshot(server, health);
    await sleep(windowMs);
    const steadyAfter = await snapshot(server, health);
    const connect = { before: connectBefore, after: connectAfter, quietBefore: connectAfter, quietAfter: steadyAfter };
    const steady = { before: connectAfter, after: steadyAfter };

    // ── reconnects after a restart on the same persist folder ──
    log("restart: stopping wrangler dev, same persist folder");
    await server.stop({ keepPersist: true });
    await sleep(1000);
    server = await start();
    const reconnectBefore = await snapshot(server, health);
    log(`${n} clients reconnect at once with last_seq and epoch`);
    await connectAll(
      clients,
      server.baseUrl,
      addresses,
      (c) => ({ currencies: "USD", last_seq: String(c.lastSeen), ...(c.epoch ? { epoch: c.epoch } : {}) }),
      { until: "live", timeoutMs: 120_000 },
    );
    const reconnected = clients.filter((c) => c.current.firstLiveAt !== null).length;
    await sleep(2 * intervalMs);
    const reconnectAfter = await snapshot(server, health);
    await sleep(windowMs);
    const quietAfter = await snapshot(server, health);
    const run = {
      clients: n,
      intervalMs,
      connect,
      steady,
      reconnect: { before: reconnectBefore, after: reconnectAfter, quietBefore: reconnectAfter, quietAfter },
      reconnected,
    };
    const verdicts = compareRun(model, run);
    console.log(
      `\n## Model vs measured (${floor ? "the floor worker" : "the feed"}, ${n} clients, FANOUT_CHUNK ${chunk}, ` +
        `${intervalMs} ms polls)\n`,
    );
    console.log("| Count | Model | Measured | |");
    console.log("|---|---:|---:|---|");
    for (const v of verdicts)
      console.log(`| ${v.what} | ${v.model} | ${v.measured} | ${v.ok ? "ok" : "**MISMATCH**"} |`);
    console.log(`\nHub calls by method, connect phase: ${JSON.stringify(delta(connectBefore, connectAfter))}`);
    console.log(`Shard calls by method, connect phase: ${JSON.stringify(deltaShards(connectBefore, connectAfter))}`);
    console.log(
      `Shard calls by method, reconnect phase: ${JSON.stringify(deltaShards(reconnectBefore, reconnectAfter))}`,
    );
    return verdicts.every((v) => v.ok) ? 0 : 1;
  } catch (error) {
    if (error.missingCounters) {
      console.error(
        `${error.message}.\nThe running feed does not count calls yet: ` +
          "--measure needs the fan-out tree's counters in " +
          "GET /health (hub_calls; last_fanout with shards, leaves, depth, maxMembers and shardCalls), " +
          "docs/design/fanout.md.",
      );
      return 3;
    }
    throw error;
  } finally {
    for (const c of clients) c.current?.ws?.close(1000, "measure done");
    await server.stop();
    planner.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  }
}

const delta = (a, b) =>
  Object.fromEntries(Object.keys(b.hubCalls).map((k) => [k, b.hubCalls[k] - (a.hubCalls[k] ?? 0)]));
const deltaShards = (a, b) =>
  Object.fromEntries(Object.keys(b.shardTotals).map((k) => [k, b.shardTotals[k] - (a.shardTotals[k] ?? 0)]));

process.on("uncaughtException", (error) => {
  console.error(error);
  killAllGroupsSync();
  process.exit(1);
});

/**
 * Levels a reconnect climbs down because its record names the shard it joined (clients joining in
 * this order), not the leaf it is in once the tree has grown: mean over the clients.
 */
export function staleLevels(clientIds, chunk) {
  const split = new Set();
  const members = new Map();
  const joinedAt = new Map();
  const leafOf = (path) => {
    let d = 0;
    while (split.has(path.slice(0, d))) d++;
    return path.slice(0, d);
  };
  for (const id of clientIds) {
    const leaf = leafOf(clientPath(id));
    joinedAt.set(id, leaf.length);
    const list = members.get(leaf) ?? [];
    list.push(id);
    members.set(leaf, list);
    if (shouldSplit(leaf, list.length, chunk)) {
      split.add(leaf);
      members.delete(leaf);
      for (const m of list) {
        const child = clientPath(m).slice(0, leaf.length + 1);
        members.set(child, [...(members.get(child) ?? []), m]);
      }
    }
  }
  let levels = 0;
  for (const id of clientIds) levels += leafOf(clientPath(id)).length - joinedAt.get(id);
  return levels / Math.max(1, clientIds.length);
}

#!/usr/bin/env node
// npm run bench [-- --sizes 100,1000 --ticks 10 ...]   (see bench/README.md)
//
// For each client count N: the Worker on local workerd (simulated source, 1 s polls; storage per
// --storage) and a single-process Node `ws` baseline, each with N real WebSocket clients in this
// process: connect time, tick→receive latency, delivery, memory per client. Then direct RPC versus
// the fan-out tree at the fan-out sizes, and disk vs tmpfs storage at the storage sizes. A Worker
// size whose file descriptors cannot fit the open-file limit is not started: the largest size
// that fits runs in its place (Worker and baseline), labelled as such. Prints markdown tables,
// writes bench/results/<ts>.json and bench/results/latest.md. Reports numbers; asserts nothing
// about wall-clock.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  AddressPool,
  analyze,
  closeFleet,
  connectFleet,
  deliveredCount,
  liveSeqsSince,
  summarize,
} from "./lib/fleet.mjs";
import { parseOptions, sizeList } from "../scripts/lib/args.mjs";
import { abortAfter, installCleanup, killAllGroupsSync, machineInfo, sleep } from "./lib/procs.mjs";
import { buildWorker, FLOOR_CONFIG, serverOpenFileLimit, startBaseline, startWorker } from "./lib/servers.mjs";
import { measureStorm } from "./lib/storm.mjs";
import { createStoragePlanner, fdBudget, FD_MARGIN, FDS_PER_CLIENT, STORAGE_MODES } from "./lib/storage.mjs";
import { startProfile } from "./lib/profile.mjs";
import { renderMarkdown } from "./lib/report.mjs";
import { RESUMING_FLOOR } from "./lib/floor-report.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");

const HELP = `npm run bench -- [options]        (every option also reads BENCH_<NAME>, e.g. BENCH_SIZES=100,1000)
  --sizes 100,1000,5000      client counts, Worker (auto fan-out) and baseline at each
  --ticks 10                 ticks measured per scenario (each tick reaches every client)
  --interval 1000            POLL_INTERVAL_MS for both servers
  --fanout-sizes 1000,5000   sizes for one unsplit shard (FANOUT_CHUNK=100000) vs the tree ("none" to skip)
  --storage auto             Durable Object storage of the Worker: disk (wrangler dev, --persist-to
                             on disk), tmpfs (the same under /dev/shm: no disk fsync), auto (tmpfs
                             when /dev/shm is a writable tmpfs, else disk with a warning)
  --storage-sizes 1000       sizes for the Worker on disk vs tmpfs ("none" to skip)
  --fd-limit N               pretend workerd's open-file limit is N (default: the real one, read
                             once; only lower counts). A Worker size needing more than
                             ${FDS_PER_CLIENT} per client + ${FD_MARGIN} is not started: the largest size that fits,
                             rounded down to 100, runs in its place (Worker and baseline).
                             BENCH_FD_LIMIT=1400 fits 200: a cheap way to exercise that
  --floor-sizes 1000         sizes where the feed is measured against the floor worker (bench/floor):
                             fan-out p99 and reconnect storm, as ratios ("none" to skip)
  --floor-rounds 2           rounds of (feed, floor) at each floor size, the order alternating
  --no-resuming-floor        skip the resuming floor's storm (the floor that also resumes as the
                             feed's contract asks; a reference beside the floor, see bench/README.md)
  --storm-interval 250       POLL_INTERVAL_MS of the reconnect storms: a client's first live price
                             waits for the next tick, so a storm's time is quantized by it
  --concurrency 64           WebSocket handshakes in flight at once
  --servers worker,baseline  which servers to run
  --connect-timeout 300      seconds allowed to connect all clients of one size
  --tick-timeout 180         seconds allowed for the measured ticks to arrive
  --drain 20                 seconds to wait for a window's last frames after its last tick
  --persist-root DIR         parent of the disk storage's per-scenario --persist-to dirs (default:
                             the run's tmp dir)
  --profile                  CPU-profile the Worker's isolate during each measurement window and
                             each reconnect storm (V8 sampling profiler via the inspector; summary
                             in the JSON, the storms' .cpuprofile files in the work dir)
  --no-snapshot              run wrangler dev on src/ directly instead of one pre-built bundle
  --via runtime              runtime: clients connect to the user worker's own socket (bypassing
                             wrangler dev's proxy, which makes wrangler exit under overload);
                             proxy: through wrangler's port
  --local-observability      keep wrangler's local trace store on (X_LOCAL_OBSERVABILITY, default
                             on in wrangler; the bench turns it off: it is a dev-tool cost)
  --log-level debug          wrangler dev --log-level (with --via proxy; debug keeps stacks)
  --max-minutes 90           abort (and clean up) after this long
  --out bench/results        where the JSON and latest.md go`;

const OPTIONS = {
  sizes: { type: "string", default: "100,1000,5000" },
  ticks: { type: "string", default: "10" },
  interval: { type: "string", default: "1000" },
  "fanout-sizes": { type: "string", default: "1000,5000" },
  storage: { type: "string", default: "auto" },
  "storage-sizes": { type: "string", default: "1000" },
  "fd-limit": { type: "string", default: "" },
  "floor-sizes": { type: "string", default: "1000" },
  "floor-rounds": { type: "string", default: "2" },
  "storm-interval": { type: "string", default: "250" },
  concurrency: { type: "string", default: "64" },
  servers: { type: "string", default: "worker,baseline" },
  "connect-timeout": { type: "string", default: "300" },
  drain: { type: "string", default: "20" },
  "tick-timeout": { type: "string", default: "180" },
  snapshot: { type: "boolean", default: true, negatable: true },
  "resuming-floor": { type: "boolean", default: true, negatable: true },
  profile: { type: "boolean", default: false },
  "persist-root": { type: "string", default: "" },
  "max-minutes": { type: "string", default: "90" },
  "log-level": { type: "string", default: "debug" },
  via: { type: "string", default: "runtime" },
  "local-observability": { type: "boolean", default: false },
  out: { type: "string", default: path.join(here, "results") },
};

function readArgs(argv) {
  const opts = parseOptions(argv, OPTIONS, { help: HELP, envPrefix: "BENCH_" });
  const usage = (message) => {
    console.error(message);
    process.exit(2);
  };
  if (opts["fd-limit"] && !(Number(opts["fd-limit"]) > 0))
    usage(`--fd-limit ${opts["fd-limit"]}: expected a positive number`);
  if (![...STORAGE_MODES, "auto"].includes(opts.storage))
    usage(`--storage ${opts.storage}: expected auto, ${STORAGE_MODES.join(", ")}`);
  return {
    sizes: sizeList(opts.sizes),
    ticks: Math.max(1, Number(opts.ticks)),
    intervalMs: Number(opts.interval),
    fanoutSizes: sizeList(opts["fanout-sizes"]),
    storage: opts.storage,
    storageSizes: sizeList(opts["storage-sizes"]),
    fdLimit: opts["fd-limit"] ? Number(opts["fd-limit"]) : null,
    floorSizes: sizeList(opts["floor-sizes"]),
    floorRounds: Math.max(1, Number(opts["floor-rounds"]) || 1),
    resumingFloor: opts["resuming-floor"],
    stormIntervalMs: Math.max(250, Number(opts["storm-interval"]) || 250),
    concurrency: Math.max(1, Number(opts.concurrency)),
    servers: String(opts.servers)
      .split(",")
      .map((s) => s.trim()),
    connectTimeoutMs: Number(opts["connect-timeout"]) * 1000,
    drainMs: Number(opts.drain) * 1000,
    tickTimeoutMs: Number(opts["tick-timeout"]) * 1000,
    snapshot: opts.snapshot,
    profile: opts.profile,
    persistRoot: opts["persist-root"] ? path.resolve(opts["persist-root"]) : null,
    maxMinutes: Number(opts["max-minutes"]),
    logLevel: opts["log-level"],
    via: opts.via === "proxy" ? "proxy" : "runtime",
    localObservability: opts["local-observability"],
    out: path.resolve(opts.out),
  };
}

const t0 = Date.now();
const stamp = () => `${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s`;
const log = (msg) => console.error(`[bench ${stamp()}] ${msg}`);

function readOnlyGit(args) {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

/**
 * What startWorker needs to start the feed ("worker"), the floor ("floor", bench/floor) or the resuming
 * floor (the floor with FLOOR_RESUME=1), and the vars that make it so.
 */
function workerKind(kind, ctx) {
  if (kind === "worker") return { server: { kind, build: ctx.build, config: null }, vars: {} };
  const vars = kind === RESUMING_FLOOR ? { FLOOR_RESUME: "1" } : {};
  return { server: { kind: "floor", build: ctx.floorBuild, config: FLOOR_CONFIG }, vars };
}

/** A scenario whose server died mid-way (it happens, rarely, under load) is run once more. */
async function runScenario(args) {
  const first = await runScenarioOnce(args);
  // Running out of file descriptors is deterministic: a second try would only crash again.
  if (first.ok || !first.serverExited || /Too many open files/.test(first.error ?? "")) return first;
  log(`  the server died mid-scenario; running ${args.server}/${args.name}/${args.n} once more`);
  const second = await runScenarioOnce(args);
  return { ...second, previousAttempts: [{ error: first.error, logFile: first.logFile }] };
}

/**
 * One scenario: a fresh server, N clients, `ticks` live ticks measured, then everything closed.
 * `storage` (Worker only): the planner's decision, see lib/storage.mjs. `substituteFor`: the
 * requested size this one stands in for (it did not fit the open-file limit).
 */
async function runScenarioOnce({
  name,
  server: kind,
  n,
  vars = {},
  storage = null,
  comparison,
  substituteFor,
  round,
  opts,
  ctx,
}) {
  const label = `${kind}-${name}-${n}${storage ? `-${storage.mode}` : ""}${round ? `-r${round}` : ""}`.replace(
    /[^A-Za-z0-9_-]/g,
    "_",
  );
  log(`── ${kind} ${name}, N=${n}${storage ? `, ${storage.mode} storage` : ""} ──`);
  const result = { scenario: name, server: kind, n, vars, ok: false, ...(round ? { round } : {}) };
  if (storage) {
    result.storage = storage.mode;
    result.storageRequested = storage.requested;
    result.storageReason = storage.reason;
    if (storage.fallbackFrom) result.storageFallbackFrom = storage.fallbackFrom;
  }
  if (comparison) result.comparison = comparison;
  if (substituteFor) result.substituteFor = [substituteFor];
  let server = null;
  let fleet = null;
  const worker = kind === "baseline" ? null : workerKind(kind, ctx);
  try {
    server =
      kind === "baseline"
        ? await startBaseline({
            root,
            workDir: ctx.workDir,
            label,
            intervalMs: opts.intervalMs,
            startTimeoutMs: 30_000,
            log,
          })
        : await startWorker({
            ...worker.server,
            root,
            workDir: ctx.workDir,
            persistRoot: storage.persistRoot,
            label,
            vars: { ...vars, ...worker.vars },
            intervalMs: opts.intervalMs,
            logLevel: opts.logLevel,
            via: opts.via,
            localObservability: opts.localObservability,
            startTimeoutMs: 120_000,
            log,
          });
    result.logFile = server.logFile;
    result.serverVars = server.vars;
    if (server.via) result.via = server.via;
    await sleep(1000);
    const before = server.sample();
    result.serverPids = server.pids();
    result.serverOpenFileLimit = server.openFiles();
    const fdLimit = Math.min(...result.serverOpenFileLimit.map(Number).filter(Number.isFinite));
    // The planner keeps sizes within the limit it read; this catches a server that got less.
    if (kind !== "baseline" && fdLimit < n * FDS_PER_CLIENT + 100) {
      log(
        `  WARNING: workerd may open ${fdLimit} files; ${n} clients need ~${n * FDS_PER_CLIENT} ` +
          "(socket + SQLite db, -wal, -shm per session). " +
          `Expect "Too many open files" near ${Math.floor((fdLimit - 100) / FDS_PER_CLIENT)} clients; ` +
          "raise the hard limit (ulimit -Hn) in the shell to go further.",
      );
    }

    // ── connect ──
    const runId = `${ctx.runId}-${label}`;
    const connectTimeoutMs = opts.connectTimeoutMs;
    const cpuBeforeConnect = before.cpuS;
    const conn = await connectFleet({
      baseUrl: server.wsUrl,
      n,
      runId,
      concurrency: opts.concurrency,
      phaseTimeoutMs: connectTimeoutMs,
      retries: 2,
      addresses: ctx.addresses,
      shouldStop: () => server.exited() !== null || server.crashes().count > 0,
      onProgress: ({ connected, elapsedMs }) =>
        log(`  connecting: ${connected}/${n} after ${(elapsedMs / 1000).toFixed(0)} s`),
    });
    fleet = conn.clients;
    result.connect = {
      connected: conn.connected,
      notConnected: conn.notConnected,
      timedOut: conn.timedOut,
      seconds: conn.connectMs / 1000,
      attempts: conn.attempts,
      failures: conn.failures,
      perClientWelcomeMs: conn.handshakeMs,
      concurrency: opts.concurrency,
    };
    log(
      `  connected ${conn.connected}/${n} in ${(conn.connectMs / 1000).toFixed(1)} s` +
        (Object.keys(conn.failures).length ? ` (failed attempts: ${JSON.stringify(conn.failures)})` : ""),
    );
    if (server.exited()) throw new Error(`the server exited while clients connected; see ${server.logFile}`);
    if (conn.connected === 0) throw new Error("no client connected");

    await sleep(2000);
    const afterConnect = server.sample();
    if (kind === "worker") {
      try {
        const h = await server.health();
        result.subscribersAfterConnect = h.subscribers;
      } catch {
        /* informational */
      }
    }

    // ── measure ticks ──
    let profiler = null;
    if (opts.profile && kind === "worker") {
      try {
        profiler = await startProfile(server.inspectorPort);
      } catch (e) {
        log(`  profiler did not start: ${e.message}`);
      }
    }
    const measureStart = Date.now();
    const cpuAtStart = afterConnect.cpuS;
    const selfCpuStart = process.cpuUsage();
    const fanouts = new Map();
    const healthErrors = [];
    let polling = true;
    const poller =
      kind !== "baseline"
        ? (async () => {
            while (polling) {
              try {
                const h = await server.health();
                const f = h.last_fanout;
                if (f && !fanouts.has(f.seq)) fanouts.set(f.seq, f);
              } catch (e) {
                healthErrors.push(String(e.message ?? e));
              }
              await sleep(400);
            }
          })()
        : Promise.resolve();

    const tickDeadline = measureStart + opts.tickTimeoutMs;
    let seen = liveSeqsSince(fleet, measureStart);
    let lastReport = 0;
    while (seen.size < opts.ticks && Date.now() < tickDeadline && !server.exited() && server.crashes().count === 0) {
      await sleep(100);
      seen = liveSeqsSince(fleet, measureStart);
      if (seen.size !== lastReport) {
        lastReport = seen.size;
        if (seen.size % 5 === 0 || seen.size === opts.ticks) log(`  ticks seen: ${seen.size}/${opts.ticks}`);
      }
    }
    const window = new Set([...seen].sort((a, b) => a - b).slice(0, opts.ticks));
    if (window.size < opts.ticks) log(`  only ${window.size} ticks arrived before the deadline`);
    const expected = window.size * conn.connected;
    const drainDeadline = Date.now() + opts.drainMs;
    while (deliveredCount(fleet, window) < expected && Date.now() < drainDeadline && !server.exited()) await sleep(100);
    const cutoff = Date.now();
    if (profiler) {
      try {
        result.profile = await profiler.stop(path.join(ctx.workDir, `${label}.cpuprofile`));
        const p = result.profile;
        log(
          `  profile: ${p.busyMs} ms busy of ${p.sampledMs} ms sampled (idle ${p.idlePct}%); top self: ${p.topSelf
            .slice(0, 5)
            .map((x) => `${x.fn} ${x.pct}%`)
            .join(", ")}`,
        );
      } catch (e) {
        log(`  profiler failed: ${e.message}`);
      }
    }
    await sleep(600); // one more /health read for the last tick's fan-out
    polling = false;
    await poller;

    let afterTicks = server.sample();
    // A server that died mid-window leaves nothing to sample: report no CPU/RSS rather than nonsense.
    const samePids = (a, b) => a.per.map((p) => p.pid).join() === b.per.map((p) => p.pid).join();
    if (!samePids(afterTicks, afterConnect)) afterTicks = { ...afterTicks, rssKb: NaN, cpuS: NaN };
    const selfCpu = process.cpuUsage(selfCpuStart);
    const analysis = analyze(fleet, window, cutoff);
    result.delivery = analysis;
    result.latencyMs = analysis.latencyMs;
    const windowSeconds = (cutoff - measureStart) / 1000;
    result.cpu = {
      serverSeconds: roundTo(afterTicks.cpuS - cpuAtStart, 2),
      serverCoresBusy: roundTo((afterTicks.cpuS - cpuAtStart) / windowSeconds, 2),
      serverSecondsPerTick: window.size ? roundTo((afterTicks.cpuS - cpuAtStart) / window.size, 3) : null,
      serverSecondsDuringConnect: roundTo(afterConnect.cpuS - cpuBeforeConnect, 1),
      benchClientSeconds: roundTo((selfCpu.user + selfCpu.system) / 1e6, 2),
      windowSeconds: roundTo(windowSeconds, 1),
      perProcess: afterTicks.per,
    };
    const perClient = (a, b) => roundTo((a.rssKb - b.rssKb) / conn.connected, 1);
    result.memory = {
      rssBeforeMiB: roundTo(before.rssKb / 1024, 1),
      rssAfterConnectMiB: roundTo(afterConnect.rssKb / 1024, 1),
      rssAfterTicksMiB: roundTo(afterTicks.rssKb / 1024, 1),
      perClientKiB: perClient(afterConnect, before),
      perClientAfterTicksKiB: perClient(afterTicks, before),
      processes: afterTicks.per.length,
    };
    // Open files of the busiest server process (the user workerd): ~4 per client for the Worker.
    const maxFds = (smp) => Math.max(0, ...smp.per.map((p) => p.fds ?? 0));
    result.openFiles = {
      before: maxFds(before),
      afterConnect: maxFds(afterConnect),
      perClient: roundTo((maxFds(afterConnect) - maxFds(before)) / conn.connected, 2),
      limit: result.serverOpenFileLimit,
    };
    if (kind !== "baseline") {
      const f = [...fanouts.values()].filter((x) => window.has(x.seq));
      result.hubFanout = {
        samples: f.length,
        durationMs: summarize(f.map((x) => x.durationMs)),
        shards: [...new Set(f.map((x) => x.shards))],
        failed: f.reduce((s, x) => s + (x.failed ?? 0), 0),
        perTick: f.map(({ seq, durationMs, shards, delivered, failed }) => ({
          seq,
          durationMs,
          shards,
          delivered,
          failed,
        })),
        healthErrors: healthErrors.length,
      };
    }
    const l = analysis.latencyMs;
    log(
      `  ${analysis.ticks} ticks: p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms` +
        `; delivered ${analysis.delivered}/${analysis.expected}` +
        `; dup ${analysis.duplicates}, out-of-order ${analysis.outOfOrder}, gap events ${analysis.gapEvents}` +
        `; dropped by the client library ${analysis.droppedByClient}, gap ranges ${analysis.gapRanges}` +
        `; RSS/client ${result.memory.perClientKiB} KiB; server CPU ${result.cpu.serverCoresBusy} cores` +
        (result.hubFanout
          ? `; hub fan-out p50 ${result.hubFanout.durationMs.p50} ms, shards ${result.hubFanout.shards.join("/")}`
          : ""),
    );
    const crash = server.crashes();
    if (crash.count > 0) {
      result.serverExited = true; // retried like an exit
      throw new Error(
        `workerd crashed ${crash.count}× and was restarted (every socket dropped): ` +
          `${crash.cause ?? "cause not logged"}; see ${server.logFile}`,
      );
    }
    const exited = server.exited();
    if (exited)
      throw new Error(
        `the server exited during the scenario (code ${exited.code}, signal ${exited.signal}); see ${server.logFile}`,
      );
    result.ok = true;
  } catch (error) {
    result.error = String(error.stack ?? error);
    result.serverExited = result.serverExited || Boolean(server?.exited());
    log(`  scenario failed: ${String(error.message ?? error).split("\n")[0]}`);
  } finally {
    if (fleet) await closeFleet(fleet, 10_000);
    if (server) await server.stop();
  }
  // Let the machine settle before the next scenario (sockets in TIME_WAIT, page cache, GC).
  await sleep(2000);
  return result;
}

/** The reconnect storm (lib/storm.mjs) of the feed ("worker"), the floor or the resuming floor (own persist folder). */
async function runStormScenario({ kind, n, storage, round, opts, ctx }) {
  const label = `${kind}-storm-${n}-${storage.mode}-r${round}`;
  log(`── ${kind} reconnect storm, N=${n}, ${storage.mode} storage, round ${round} ──`);
  const result = {
    scenario: "storm",
    server: kind,
    n,
    comparison: "floor",
    round,
    ok: false,
    storage: storage.mode,
    storageRequested: storage.requested,
  };
  const worker = workerKind(kind, ctx);
  try {
    result.storm = await measureStorm({
      start: ({ keepPersist }) =>
        startWorker({
          ...worker.server,
          root,
          workDir: ctx.workDir,
          persistRoot: storage.persistRoot,
          label,
          // Sessions offline through the restart must outlive it (the drill's setting).
          vars: { CLIENT_TTL_S: "20", ...worker.vars },
          intervalMs: opts.stormIntervalMs,
          logLevel: opts.logLevel,
          via: opts.via,
          localObservability: opts.localObservability,
          startTimeoutMs: 120_000,
          keepPersist,
          log,
        }),
      n,
      runId: `${ctx.runId}-${label}`,
      addresses: ctx.addresses,
      concurrency: opts.concurrency,
      profileFile: opts.profile ? path.join(ctx.workDir, `${label}.cpuprofile`) : null,
      log,
    });
    result.ok = result.storm.stormMs !== null;
    if (!result.ok) result.error = `${result.storm.notLiveAgain} of ${result.storm.clients} clients not live again`;
  } catch (error) {
    result.error = String(error.stack ?? error);
    log(`  storm failed: ${String(error.message ?? error).split("\n")[0]}`);
  }
  await sleep(2000);
  return result;
}

const roundTo = (x, d) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

async function main() {
  const opts = readArgs(process.argv.slice(2));
  const [major] = process.versions.node.split(".").map(Number);
  if (major < 22) {
    console.error(
      `Node ${process.version}: run through npm (npm run bench) so node_modules/.bin/node (22) is used; ` +
        "wrangler needs Node ≥ 22.",
    );
    process.exit(2);
  }
  installCleanup();
  const machine = machineInfo();
  const maxN = Math.max(...opts.sizes, ...opts.fanoutSizes, ...opts.storageSizes, ...opts.floorSizes, 0);
  const softFiles = Number(machine.openFiles?.soft);
  if (Number.isFinite(softFiles) && softFiles < maxN + 200) {
    log(
      `WARNING: open-file limit ${softFiles} < ${maxN} clients + slack; ` +
        `raise it in the shell first (ulimit -n ${maxN * 2 + 1000}).`,
    );
  }
  const runId = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  const workDir = mkdtempSync(path.join(os.tmpdir(), `btc-bench-${runId}-`));
  log(
    `run ${runId}; machine: ${machine.nproc} cores, ${machine.cpuModel}, ${machine.ramGiB} GiB, ` +
      `Node ${machine.node}; open files ${machine.openFiles?.soft}`,
  );
  log(`work dir (logs, persist dirs) ${workDir}`);

  const watchdog = abortAfter(opts.maxMinutes, log);

  const persistRoot = opts.persistRoot ? mkdtempSync(path.join(opts.persistRoot, `btc-bench-${runId}-`)) : workDir;
  const ctx = { runId, workDir, persistRoot, addresses: new AddressPool(), build: null, floorBuild: null };
  const meta = {
    runId,
    machine,
    options: { ...opts, out: path.relative(root, opts.out), persistRoot: opts.persistRoot ?? os.tmpdir() },
    git: {
      head: readOnlyGit(["rev-parse", "--short", "HEAD"]),
      dirtyFiles: Number(readOnlyGit(["status", "--porcelain"])?.split("\n").filter(Boolean).length ?? NaN),
    },
    clientNode: process.version,
  };
  if (opts.servers.includes("worker") && opts.snapshot) {
    const built = buildWorker({ root, outDir: path.join(workDir, "build"), log });
    ctx.build = built;
    meta.workerBundleSha256 = built.sha256;
    log(`bundle sha256 ${built.sha256.slice(0, 16)}…`);
  }
  if (opts.servers.includes("worker") && opts.floorSizes.length && opts.snapshot) {
    const built = buildWorker({ root, outDir: path.join(workDir, "build-floor"), log, config: FLOOR_CONFIG });
    ctx.floorBuild = built;
    meta.floorBundleSha256 = built.sha256;
  }

  // Storage of the Worker's Durable Objects per scenario, and the open-file budget of its workerd
  // (lib/storage.mjs). The limits are read once; servers get the soft limit raised to the hard one.
  const worker = opts.servers.includes("worker");
  const baseline = opts.servers.includes("baseline");
  const limits = serverOpenFileLimit();
  const fds = fdBudget({ limit: limits.server, hardLimit: limits.hard, override: opts.fdLimit });
  if (opts.fdLimit && !fds.overridden)
    log(`--fd-limit ${opts.fdLimit} is not below the real limit (${limits.server}): ignored`);
  const planner = createStoragePlanner({ runId, diskRoot: persistRoot, log });
  log(
    `storage ${opts.storage}; workerd may open ${fds.limit} files` +
      (fds.overridden ? ` (--fd-limit; really ${fds.realLimit})` : ` (hard limit ${limits.hard})`) +
      ": " +
      `up to ${fds.maxClients} clients at ${FDS_PER_CLIENT} each + ${FD_MARGIN}`,
  );

  const scenarios = [];
  const sameVars = (a, b) => JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});
  /** Records that run `r` also stands in for the requested size `forN`. */
  const standsIn = (r, forN) => {
    if (forN && forN !== r.n && !(r.substituteFor ?? []).includes(forN))
      r.substituteFor = [...(r.substituteFor ?? []), forN];
    return r;
  };
  /**
   * A Worker size whose file descriptors do not fit: recorded as not run, never started (workerd
   * would die with "Too many open files" after connecting almost everyone, minutes later).
   */
  const notRun = ({ name, n, vars = {}, storage, comparison }) => {
    const sub = fds.substitute(n);
    const reason = fds.reason(n);
    log(
      `── worker ${name}, N=${n}${storage ? `, ${storage} storage` : ""}: ` +
        `not run, ${reason}${sub ? `; ${sub} clients instead` : ""} ──`,
    );
    const r = {
      scenario: name,
      server: "worker",
      n,
      vars,
      ok: false,
      skipped: true,
      skipReason: "open-files",
      fdsNeeded: fds.need(n),
      fdLimit: fds.limit,
      substitutedBy: sub,
      error: `not run: ${reason}`,
    };
    if (storage) Object.assign(r, { storage, storageRequested: storage });
    if (comparison) r.comparison = comparison;
    scenarios.push(r);
  };
  /** Runs a scenario, unless the same one (server, name, size, vars, storage asked, comparison) already ran. */
  const ensure = async ({ server, name, n, vars = {}, requested = opts.storage, comparison, forN }) => {
    const done = scenarios.find(
      (s) =>
        !s.skipped &&
        s.server === server &&
        s.scenario === name &&
        s.n === n &&
        sameVars(s.vars, vars) &&
        (server !== "worker" || s.storageRequested === requested) &&
        s.comparison === comparison,
    );
    if (done) return standsIn(done, forN);
    const storage = server === "worker" ? planner.resolve(requested) : null;
    const r = await runScenario({
      name,
      server,
      n,
      vars,
      storage,
      comparison,
      substituteFor: forN && forN !== n ? forN : undefined,
      opts,
      ctx,
    });
    scenarios.push(r);
    return r;
  };

  for (const n of opts.sizes) {
    // Worker at n, or at the largest size that fits: then the baseline runs at both (like for like).
    const e = worker ? fds.substitute(n) : n;
    if (worker && e === n) await ensure({ server: "worker", name: "auto", n });
    if (worker && e !== n) notRun({ name: "auto", n });
    if (baseline) await ensure({ server: "baseline", name: "baseline", n });
    if (worker && e && e !== n) {
      await ensure({ server: "worker", name: "auto", n: e, forN: n });
      if (baseline) await ensure({ server: "baseline", name: "baseline", n: e, forN: n });
    }
  }
  if (worker) {
    for (const n of opts.fanoutSizes) {
      const e = fds.substitute(n);
      // FANOUT_CHUNK is clamped to 10,000 by the config: any N up to that stays on the root shard, unsplit.
      const variants = [["direct", { FANOUT_CHUNK: "100000" }]];
      if (e !== n) {
        if (!scenarios.some((s) => s.server === "worker" && s.scenario === "auto" && s.n === n && !s.comparison))
          notRun({ name: "auto", n });
        for (const [name, vars] of variants) notRun({ name, n, vars });
        if (!e) continue;
      }
      // The tree with the default FANOUT_CHUNK: the main sizes' run when they had this size.
      await ensure({ server: "worker", name: "auto", n: e, forN: n });
      for (const [name, vars] of variants) await ensure({ server: "worker", name, n: e, vars, forN: n });
    }
    // Disk vs tmpfs with the default FANOUT_CHUNK; a main run at that size on that storage
    // is reused, not run again.
    for (const n of opts.storageSizes) {
      const e = fds.substitute(n);
      if (e !== n) {
        for (const mode of STORAGE_MODES) notRun({ name: "auto", n, storage: mode, comparison: "storage" });
        if (!e) continue;
      }
      for (const mode of STORAGE_MODES) {
        const done = scenarios.find(
          (s) =>
            s.server === "worker" &&
            s.scenario === "auto" &&
            s.n === e &&
            !s.skipped &&
            !s.comparison &&
            s.storage === mode,
        );
        if (done) {
          standsIn(done, n);
          continue;
        }
        const t = mode === "tmpfs" ? planner.tmpfsState() : null;
        if (t && !t.ok) {
          // It would run on disk: the disk row already says that.
          const r = {
            scenario: "auto",
            server: "worker",
            n: e,
            vars: {},
            ok: false,
            skipped: true,
            skipReason: "tmpfs",
            storage: "tmpfs",
            storageRequested: "tmpfs",
            comparison: "storage",
            error: `not run: tmpfs unavailable (${t.reason})`,
          };
          scenarios.push(standsIn(r, n));
          continue;
        }
        await ensure({ server: "worker", name: "auto", n: e, requested: mode, comparison: "storage", forN: n });
      }
    }
  }

  // The feed against the floor: fan-out and reconnect storm, feed and floor taking turns to go first.
  if (worker) {
    for (const n of opts.floorSizes) {
      const e = fds.substitute(n);
      if (!e) {
        log(`── floor comparison, N=${n}: not run, ${fds.reason(n)} ──`);
        continue;
      }
      const forN = e !== n ? n : undefined;
      for (let round = 1; round <= opts.floorRounds; round++) {
        const order = round % 2 === 1 ? ["worker", "floor"] : ["floor", "worker"];
        for (const kind of order) {
          const storage = planner.resolve(opts.storage);
          const r = await runScenario({
            name: "floor-cmp",
            server: kind,
            n: e,
            storage,
            comparison: "floor",
            substituteFor: forN,
            round,
            opts,
            ctx,
          });
          scenarios.push(r);
        }
        // Storms rotate the order of all three servers round by round, so none always goes first.
        const storms = opts.resumingFloor ? ["worker", "floor", RESUMING_FLOOR] : order;
        const shift = opts.resumingFloor ? (round - 1) % storms.length : 0;
        for (const kind of [...storms.slice(shift), ...storms.slice(0, shift)]) {
          const r = await runStormScenario({ kind, n: e, storage: planner.resolve(opts.storage), round, opts, ctx });
          scenarios.push(forN ? { ...r, substituteFor: [forN] } : r);
        }
      }
    }
  }

  if (persistRoot !== workDir) rmSync(persistRoot, { recursive: true, force: true });
  planner.cleanup();
  meta.storage = planner.info();
  meta.openFiles = fds.info();
  const finishedAt = new Date().toISOString();
  const report = { ...meta, finishedAt, durationS: Math.round((Date.now() - t0) / 1000), scenarios };
  const md = renderMarkdown(report);
  mkdirSync(opts.out, { recursive: true });
  const fileStamp = finishedAt.replace(/[:]/g, "-").replace(/\..*/, "Z");
  const jsonPath = path.join(opts.out, `${fileStamp}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(opts.out, "latest.md"), md);
  console.log(md);
  log(`wrote ${path.relative(root, jsonPath)} and ${path.relative(root, path.join(opts.out, "latest.md"))}`);
  const failed = scenarios.filter((s) => !s.ok && !s.skipped);
  const scenarioLabel = (s) => `${s.server}/${s.scenario}/${s.n}${s.storage ? `/${s.storage}` : ""}`;
  if (failed.length) log(`${failed.length} scenario(s) failed: ${failed.map(scenarioLabel).join(", ")}`);
  const skipped = scenarios.filter((s) => s.skipped);
  if (skipped.length)
    log(
      `${skipped.length} scenario(s) not run: ` +
        skipped
          .map((s) => `${scenarioLabel(s)}${s.substitutedBy ? ` (ran ${s.substitutedBy} instead)` : ""}`)
          .join(", "),
    );
  clearTimeout(watchdog);
  process.exitCode = failed.length ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  killAllGroupsSync();
  process.exit(1);
});

#!/usr/bin/env node
// npm run bench:flood [-- --clients 500 --http-clients 50 --rounds 3]   (see bench/README.md, "Flood")
//
// Does an HTTP flood reach the hub, and does it slow the WebSocket feed? One wrangler dev
// (simulated source, 1 s polls), N WebSocket clients measuring tick→receive, and rounds of three
// windows each: `quiet` (no HTTP), `flood` (M concurrent HTTP clients, in a process of their
// own, hammering /health, /api/price and /api/history, every request from a new loopback
// address, so no per-IP limit ever stops them) and `control` (the same clients on a path that
// never reaches the cache or the hub). Per window: latency over every frame of `ticks` ticks;
// per flooded window: requests, statuses, where the edge answered from, and the hub's own count
// of HTTP reads (`http_reads` in /health) before and after. Medians over the rounds; asserts nothing.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseOptions } from "../scripts/lib/args.mjs";
import { AddressPool, analyze, closeFleet, connectFleet, deliveredCount, liveSeqsSince } from "./lib/fleet.mjs";
import { abortAfter, installCleanup, killAllGroupsSync, machineInfo, sleep } from "./lib/procs.mjs";
import { buildWorker, startWorker } from "./lib/servers.mjs";
import { createStoragePlanner } from "./lib/storage.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");

const HELP = `npm run bench:flood -- [options]      (each also reads BENCH_FLOOD_<NAME>)
  --clients 500        WebSocket clients measuring tick→receive
  --http-clients 50    concurrent HTTP clients in the flood (each request from a new address)
  --rounds 3           rounds of (quiet window, flood window); medians are over rounds
  --ticks 10           ticks measured per window
  --interval 1000      POLL_INTERVAL_MS
  --storage auto       Durable Object storage: disk, tmpfs or auto (see bench/README.md)
  --max-minutes 20     abort (and clean up) after this long
  --out bench/results  where flood-<timestamp>.json and flood-latest.md go`;

const OPTIONS = {
  clients: { type: "string", default: "500" },
  "http-clients": { type: "string", default: "50" },
  rounds: { type: "string", default: "3" },
  ticks: { type: "string", default: "10" },
  interval: { type: "string", default: "1000" },
  storage: { type: "string", default: "auto" },
  "max-minutes": { type: "string", default: "20" },
  out: { type: "string", default: path.join(here, "results") },
};

function readArgs(argv) {
  const opts = parseOptions(argv, OPTIONS, { help: HELP, envPrefix: "BENCH_FLOOD_" });
  return {
    clients: Number(opts.clients),
    httpClients: Number(opts["http-clients"]),
    rounds: Number(opts.rounds),
    ticks: Number(opts.ticks),
    intervalMs: Number(opts.interval),
    storage: opts.storage,
    maxMinutes: Number(opts["max-minutes"]),
    out: path.resolve(opts.out),
  };
}

const t0 = Date.now();
const log = (msg) => console.error(`[flood ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${msg}`);
const median = (xs) => {
  const s = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * The flood's requests, as a page and a crowd would send them: /health, the snapshot in several
 * spellings (one with a junk parameter that changes per request, as a cache-buster would), the
 * default history and the page's chart request (from rounded down to the minute, window open).
 * "{random}" is replaced per request.
 */
function floodPaths() {
  const from = Math.floor((Date.now() - 3_600_000) / 60_000) * 60;
  return [
    "/health",
    "/api/price?currencies=USD",
    "/api/price?currencies=usd,eur",
    "/api/price?currencies=EUR,USD",
    "/api/price?currencies=USD,EUR&nocache={random}",
    "/api/history?currency=USD",
    `/api/history?currency=USD&from=${from}&limit=2000`,
    `/api/history?currency=EUR&from=${from}&limit=2000`,
  ];
}

/**
 * The control: requests of the same shape that never reach the hub or the cache (an unknown
 * /api path: the per-IP limiter, then a 404). What any HTTP flood costs the one local workerd
 * thread that also runs the hub and every session.
 */
const CONTROL_PATHS = ["/api/none?x={random}"];

/** M closed-loop HTTP clients in a child process (lib/flood-client.mjs) until stop(). */
function startFlood({ baseUrl, concurrency, addressBlock, paths }) {
  const child = spawn(
    process.execPath,
    [
      path.join(here, "lib", "flood-client.mjs"),
      baseUrl,
      String(concurrency),
      String(addressBlock),
      JSON.stringify(paths),
    ],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  return {
    async stop() {
      child.stdin.end("stop\n");
      await exited;
      return JSON.parse(out.trim().split("\n").pop());
    },
  };
}

/**
 * The hub's own count of HTTP reads. /health is itself cached: read until an answer comes from
 * the hub (X-Edge-Cache: hub), which that read then counts too.
 */
async function hubReads(server, ttlMs) {
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = await server.healthResponse();
    if (r.headers["x-edge-cache"] === "hub") return JSON.parse(r.body).http_reads;
    await sleep(ttlMs + 250);
  }
  throw new Error("/health never came from the hub: cannot read its counters");
}

/** Waits for `ticks` live ticks published after `since`, then for their frames; returns the analysis. */
async function measureWindow(fleet, since, ticks, intervalMs) {
  const deadline = Date.now() + ticks * intervalMs * 6 + 30_000;
  let seen = liveSeqsSince(fleet, since);
  while (seen.size < ticks && Date.now() < deadline) {
    await sleep(100);
    seen = liveSeqsSince(fleet, since);
  }
  const window = new Set([...seen].sort((a, b) => a - b).slice(0, ticks));
  const expected = window.size * fleet.filter((c) => c.counted).length;
  const drainUntil = Date.now() + 20_000;
  while (deliveredCount(fleet, window) < expected && Date.now() < drainUntil) await sleep(100);
  return analyze(fleet, window, Date.now());
}

function windowSummary(kind, round, a, cpu) {
  return {
    kind,
    round,
    ticks: a.ticks,
    delivered: a.delivered,
    expected: a.expected,
    integrity: { duplicates: a.duplicates, outOfOrder: a.outOfOrder, missing: a.missing },
    latencyMs: a.latencyMs,
    tickSpacingMs: a.tickSpacingMs,
    serverCoresBusy: cpu,
  };
}

function render(report) {
  const { opts, rounds, summary } = report;
  const int = (x) => (x == null ? "–" : Number(x).toLocaleString("en-US"));
  const L = [];
  L.push(`## Flood run (${report.finishedAt.replace("T", " ").replace(/\..*/, "")} UTC)`, "");
  L.push(
    `Machine: ${report.machine.nproc} cores, ${report.machine.cpuModel}, Node ${report.machine.node}. ` +
      "Code: the commit in the JSON's `git`. " +
      "One wrangler dev (local workerd: the Worker, the hub, every session and the rate limiter share one thread; " +
      `storage ${report.storage}), ` +
      `simulated source, POLL_INTERVAL_MS=${opts.intervalMs}; ${int(opts.clients)} WebSocket clients ` +
      "(one `currencies=USD` socket per client_id) " +
      `connected once; ${opts.rounds} rounds of three windows of ${opts.ticks} ticks each, ` +
      "their order turning each round: **quiet** (no HTTP), **flood** " +
      `(${opts.httpClients} concurrent HTTP clients in a separate process, ` +
      "each request on a new connection from a new loopback address, " +
      `so no per-IP limit stops them, cycling through ${report.floodPaths.map((p) => `\`${p}\``).join(", ")}; ` +
      "`{random}` new per request) " +
      `and **control** (the same clients on \`${report.controlPaths[0]}\`: ` +
      "the per-IP limiter, then a 404; never the cache nor the hub).",
    "",
  );
  L.push(
    "| Round | Window | p50 (ms) | p99 (ms) | max (ms) | Delivered / expected | workerd cores busy | " +
      "HTTP requests (per s) | Reached the hub |",
  );
  L.push("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rounds) {
    for (const w of [r.quiet, r.flood, r.control]) {
      const f = w.floodStats;
      const h = w.hubCalls;
      const hub =
        w.kind === "quiet"
          ? "–"
          : `${h.total}${h.total ? ` (health ${h.health}, price ${h.price}, history ${h.history})` : ""}`;
      L.push(
        `| ${r.round} | ${w.kind} | ` +
          `${w.latencyMs.p50 ?? "–"} | ${w.latencyMs.p99 ?? "–"} | ${w.latencyMs.max ?? "–"} | ` +
          `${int(w.delivered)} / ${int(w.expected)} | ` +
          `${w.serverCoresBusy ?? "–"} | ${f ? `${int(f.requests)} (${f.perSecond})` : "–"} | ${hub} |`,
      );
    }
  }
  L.push("");
  L.push("| Medians over rounds | quiet | flood | control |");
  L.push("|---|---:|---:|---:|");
  L.push(`| p50 (ms) | ${summary.quiet.p50} | ${summary.flood.p50} | ${summary.control.p50} |`);
  L.push(`| p99 (ms) | ${summary.quiet.p99} | ${summary.flood.p99} | ${summary.control.p99} |`);
  L.push(`| p99 / quiet p99 | 1 | ${summary.p99FloodVsQuiet ?? "–"} | ${summary.p99ControlVsQuiet ?? "–"} |`);
  L.push(`| workerd cores busy | ${summary.quiet.cores} | ${summary.flood.cores} | ${summary.control.cores} |`);
  L.push(
    `| HTTP requests per window (per s) | – | ${int(summary.flood.requests)} (${summary.flood.perSecond}) | ` +
      `${int(summary.control.requests)} (${summary.control.perSecond}) |`,
  );
  L.push(
    `| of which reached the hub | – | ${summary.flood.hubCalls} (${summary.hubShare}) | ${summary.control.hubCalls} |`,
  );
  L.push("");
  L.push(
    `Flood statuses (all rounds): ${Object.entries(summary.floodStatus)
      .map(([k, v]) => `${k}: ${int(v)}`)
      .join(", ")}; ` +
      `answered from: ${Object.entries(summary.floodSource)
        .map(([k, v]) => `${k} ${int(v)}`)
        .join(", ")}; socket errors ${summary.floodErrors}. ` +
      "Reached the hub = the hub's own count of HTTP reads (`http_reads` in /health) " +
      "after the window minus before it, minus the bench's own read. " +
      `Latency = receive time − the frame's \`time\`, over every frame of the window's ticks.`,
  );
  L.push("");
  return L.join("\n");
}

async function main() {
  const opts = readArgs(process.argv.slice(2));
  if (Number(process.versions.node.split(".")[0]) < 22) {
    console.error("Run through npm (npm run bench:flood) so Node 22 is used: wrangler needs it.");
    process.exit(2);
  }
  installCleanup();
  const watchdog = abortAfter(opts.maxMinutes, log);

  const runId = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  const workDir = mkdtempSync(path.join(os.tmpdir(), `btc-flood-${runId}-`));
  const machine = machineInfo();
  log(`run ${runId}; ${machine.nproc} cores; work dir ${workDir}`);
  const build = buildWorker({ root, outDir: path.join(workDir, "build"), log });
  const planner = createStoragePlanner({ runId, diskRoot: workDir, log });
  const storage = planner.resolve(opts.storage);
  const ttlMs = Math.max(1, Math.ceil(opts.intervalMs / 1000)) * 1000;

  let server = null;
  let fleet = null;
  const rounds = [];
  try {
    server = await startWorker({
      root,
      workDir,
      persistRoot: storage.persistRoot,
      label: "flood",
      vars: {},
      intervalMs: opts.intervalMs,
      build,
      startTimeoutMs: 120_000,
      log,
    });
    await sleep(1000);
    const conn = await connectFleet({
      baseUrl: server.wsUrl,
      n: opts.clients,
      runId,
      concurrency: 64,
      phaseTimeoutMs: 300_000,
      retries: 2,
      addresses: new AddressPool(1),
      shouldStop: () => server.exited() !== null,
      onProgress: ({ connected }) => log(`  connecting: ${connected}/${opts.clients}`),
    });
    fleet = conn.clients;
    log(`connected ${conn.connected}/${opts.clients} in ${(conn.connectMs / 1000).toFixed(1)} s`);
    if (conn.connected === 0) throw new Error("no client connected");
    await sleep(3000);
    let addressBlock = 100; // each flood window takes a fresh block of 65,024 loopback addresses

    /** One window: `paths` flooded by M clients (none: quiet), `ticks` ticks measured, the hub's reads counted. */
    const runWindow = async (kind, round, paths) => {
      const before = await hubReads(server, ttlMs);
      const flood = paths
        ? startFlood({ baseUrl: server.baseUrl, concurrency: opts.httpClients, addressBlock: addressBlock++, paths })
        : null;
      if (flood) await sleep(500); // the flood is under way before the first measured tick
      const cpu0 = server.sample();
      const since = Date.now();
      const a = await measureWindow(fleet, since, opts.ticks, opts.intervalMs);
      const cpu1 = server.sample();
      const cores = Math.round(((cpu1.cpuS - cpu0.cpuS) / ((Date.now() - since) / 1000)) * 100) / 100;
      const floodStats = flood ? await flood.stop() : null;
      await sleep(2 * ttlMs + 250); // every answer the window left in the cache expires
      const after = await hubReads(server, ttlMs);
      const hubCalls = {
        health: after.health - before.health - 1, // the bench's own read of the counters
        price: after.price - before.price,
        history: after.history - before.history,
      };
      hubCalls.total = hubCalls.health + hubCalls.price + hubCalls.history;
      log(
        `  ${kind}: p50 ${a.latencyMs.p50} ms, p99 ${a.latencyMs.p99} ms, ${a.delivered}/${a.expected}, ` +
          `server ${cores} cores` +
          (floodStats
            ? `; ${floodStats.requests} requests (${floodStats.perSecond}/s), ` +
              `statuses ${JSON.stringify(floodStats.status)}, errors ${floodStats.errors}`
            : "") +
          `; hub calls ${JSON.stringify(hubCalls)}`,
      );
      if (server.exited()) throw new Error("wrangler dev exited during the run");
      return { ...windowSummary(kind, round, a, cores), floodStats, hubCalls };
    };

    // The order of the windows turns each round: none always follows another's garbage or idles.
    const kinds = ["quiet", "flood", "control"];
    const pathsOf = { quiet: () => null, flood: floodPaths, control: () => CONTROL_PATHS };
    for (let round = 1; round <= opts.rounds; round++) {
      const order = kinds.map((_, i) => kinds[(i + round - 1) % kinds.length]);
      log(`round ${round}: ${order.join(", ")}`);
      const windows = {};
      for (const kind of order) windows[kind] = await runWindow(kind, round, pathsOf[kind]());
      rounds.push({ round, order, ...windows });
    }
  } finally {
    if (fleet) await closeFleet(fleet, 10_000);
    if (server) await server.stop();
    planner.cleanup();
  }

  const merge = (f) =>
    rounds.reduce((acc, r) => {
      for (const [k, v] of Object.entries(f(r) ?? {})) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {});
  const med = (kind, f) => median(rounds.map((r) => f(r[kind])));
  const ratio = (x, y) => (x != null && y ? `${(x / y).toFixed(2)}×` : null);
  const summary = {};
  for (const kind of ["quiet", "flood", "control"]) {
    summary[kind] = {
      p50: med(kind, (w) => w.latencyMs.p50),
      p99: med(kind, (w) => w.latencyMs.p99),
      cores: med(kind, (w) => w.serverCoresBusy),
      requests: kind === "quiet" ? null : med(kind, (w) => w.floodStats.requests),
      perSecond: kind === "quiet" ? null : med(kind, (w) => w.floodStats.perSecond),
      hubCalls: med(kind, (w) => w.hubCalls.total),
    };
  }
  summary.p99FloodVsQuiet = ratio(summary.flood.p99, summary.quiet.p99);
  summary.p99ControlVsQuiet = ratio(summary.control.p99, summary.quiet.p99);
  summary.p99FloodVsControl = ratio(summary.flood.p99, summary.control.p99);
  summary.hubShare = summary.flood.requests
    ? `${((100 * summary.flood.hubCalls) / summary.flood.requests).toFixed(2)} %`
    : "–";
  summary.floodStatus = merge((r) => r.flood.floodStats.status);
  summary.floodSource = merge((r) => r.flood.floodStats.source);
  summary.floodErrors = rounds.reduce((n, r) => n + r.flood.floodStats.errors + r.control.floodStats.errors, 0);
  let git = null;
  try {
    const { execFileSync } = await import("node:child_process");
    git = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
  } catch {
    /* not a checkout */
  }
  const report = {
    runId,
    finishedAt: new Date().toISOString(),
    durationS: Math.round((Date.now() - t0) / 1000),
    machine,
    git,
    opts: { ...opts, out: path.relative(root, opts.out) },
    storage: storage.mode,
    floodPaths: floodPaths().map((p) => p.replace(/from=\d+/, "from=<an hour back, to the minute>")),
    controlPaths: CONTROL_PATHS,
    rounds,
    summary,
  };
  const md = render(report);
  mkdirSync(opts.out, { recursive: true });
  const stamp = report.finishedAt.replace(/[:]/g, "-").replace(/\..*/, "Z");
  const jsonPath = path.join(opts.out, `flood-${stamp}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(opts.out, "flood-latest.md"), md);
  console.log(md);
  log(`wrote ${path.relative(root, jsonPath)} and ${path.relative(root, path.join(opts.out, "flood-latest.md"))}`);
  clearTimeout(watchdog);
}

main().catch((error) => {
  console.error(error);
  killAllGroupsSync();
  process.exit(1);
});

// Starting and stopping the two servers under test.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { getFrom, HealthAddresses } from "./http.mjs";
import { freePort, killGroup, sample, sleep, spawnGroup, workerdProcesses } from "./procs.mjs";

/** /health is rate limited per address like the API: the bench's own reads rotate over addresses of their own. */
const healthAddresses = new HealthAddresses();

// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape that starts a terminal colour is what this strips
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

function childEnv(root, extra = {}) {
  const bin = path.join(root, "node_modules", ".bin");
  return {
    ...process.env,
    // `#!/usr/bin/env node` in wrangler's bin must find Node 22, not the machine's Node 20.
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_LOG_SANITIZE: "true",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    CI: "1",
    ...extra,
  };
}

/**
 * Never abort a request to wrangler dev early: when a client drops a request in flight, wrangler's
 * proxy reports "Network connection lost" and wrangler dev exits (code 1, empty ✘ ERROR). Under
 * load /health can take 10 s, so the bench waits for it instead.
 */
const HEALTH_TIMEOUT_MS = 120_000;

/** The open-file limit asked for wrangler and its workerd processes. */
const OPEN_FILES = 65_536;

/** `sh -c` prefix that raises the soft open-file limit as far as allowed, then execs "$0" "$@". */
const RAISE_LIMIT = `ulimit -n ${OPEN_FILES} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null`;

/** Spawns `cmd args` in its own process group with the soft open-file limit raised. */
function spawnRaisedLimit(cmd, args, opts) {
  return spawnGroup("/bin/sh", ["-c", `${RAISE_LIMIT}; exec "$0" "$@"`, cmd, ...args], opts);
}

/**
 * The open-file limits, read once per run: `hard` (`ulimit -Hn`, which only CAP_SYS_RESOURCE
 * can raise) and `server`, the soft limit a server started by the bench gets (what RAISE_LIMIT
 * reaches): the hard limit unless that is above OPEN_FILES.
 */
export function serverOpenFileLimit() {
  const num = (out) => (out === "unlimited" ? Infinity : Number(out));
  try {
    const [server, hard] = execFileSync("/bin/sh", ["-c", `${RAISE_LIMIT}; ulimit -n; ulimit -Hn`], {
      encoding: "utf8",
    })
      .trim()
      .split(/\s+/);
    return { server: num(server), hard: num(hard) };
  } catch {
    return { server: NaN, hard: NaN };
  }
}

/** Times the user workerd crashed and was restarted by wrangler, with the first cause logged. */
function runtimeCrashes(logFile) {
  let text = "";
  try {
    text = readFileSync(logFile, "utf8");
  } catch {
    return { count: 0, cause: null };
  }
  const count = (text.match(/The Workers runtime crashed unexpectedly/g) ?? []).length;
  const cause = /\*\*\* Fatal uncaught [^\n]*/.exec(text)?.[0]?.replace(ANSI_COLOUR, "") ?? null;
  return { count, cause };
}

/** The soft open-file limit a process actually runs with. */
export function openFileLimit(pid) {
  try {
    const m = /^Max open files\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
    return m ? m[1] : null;
  } catch {
    return null;
  }
}

function tail(file, lines = 25) {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Waits until `baseUrl` answers `/health` (any status); throws with its log's tail if it exits first. */
export async function waitForHealth(baseUrl, proc, timeoutMs, label) {
  const deadline = Date.now() + timeoutMs;
  let exited = null;
  proc.exited.then((e) => (exited = e));
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(
        `${label} exited (code ${exited.code}, signal ${exited.signal}) before answering /health:\n` +
          tail(proc.logFile),
      );
    }
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
      await res.arrayBuffer();
      return res.status; // any answer counts: 503 just means no poll yet
    } catch {
      await sleep(250);
    }
  }
  throw new Error(`${label} did not answer /health within ${timeoutMs} ms:\n${tail(proc.logFile)}`);
}

/** The floor worker's own config (bench/floor): the feed's topology forwarding one frame per tick. */
export const FLOOR_CONFIG = path.join("bench", "floor", "wrangler.toml");

/**
 * Bundles the Worker once per bench run (wrangler's own build, `deploy --dry-run`) so every
 * scenario runs the same code even while src/ is being edited, and wrangler dev has nothing
 * to hot-reload mid-measurement. Returns the entry file and its sha256. `config` (relative to
 * `root`) picks another worker: the floor's is FLOOR_CONFIG.
 */
export function buildWorker({ root, outDir, log, config: configFile = "wrangler.toml" }) {
  mkdirSync(outDir, { recursive: true });
  const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
  log(`building ${configFile} once (wrangler deploy --dry-run --outdir ${outDir})`);
  execFileSync(wrangler, ["deploy", "--dry-run", "--config", configFile, "--outdir", outDir], {
    cwd: root,
    env: childEnv(root),
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 120_000,
  });
  const entry = path.join(outDir, "index.js");
  if (!existsSync(entry)) throw new Error(`wrangler build produced no ${entry}`);
  // The config is snapshotted too: an edit to wrangler.toml would make wrangler dev restart
  // workerd mid-measurement. `main` points at the bundle next to it.
  const toml = readFileSync(path.join(root, configFile), "utf8");
  if (!/^main\s*=.*$/m.test(toml)) throw new Error("wrangler.toml has no main = line");
  const config = path.join(outDir, "wrangler.toml");
  writeFileSync(config, toml.replace(/^main\s*=.*$/m, 'main = "index.js"'));
  const sha256 = createHash("sha256").update(readFileSync(entry)).update(toml).digest("hex");
  return { entry, config, sha256 };
}

/**
 * The user worker's own socket, which wrangler's proxy forwards to: wrangler prints it at
 * debug level ("userWorkerUrl" in the proxy's reloadComplete message).
 */
async function runtimePort(logFile, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let text = "";
    try {
      text = readFileSync(logFile, "utf8");
    } catch {
      /* not yet */
    }
    const all = [...text.matchAll(/"userWorkerUrl":\{[^}]*"port":"(\d+)"/g)];
    if (all.length) return Number(all[all.length - 1][1]);
    await sleep(200);
  }
  return null;
}

/** The vars every Worker scenario overrides (wrangler dev's --var). */
function benchVars(intervalMs, vars) {
  return {
    PRICE_SOURCES: "simulated",
    POLL_INTERVAL_MS: String(intervalMs),
    // A closed session buffers for CLIENT_TTL_S; keep that short so a slow close costs little.
    CLIENT_TTL_S: "5",
    ...vars,
  };
}

/**
 * `wrangler dev` with the simulated source, on a free port and a fresh persist dir.
 * `vars` are extra --var NAME:VALUE pairs. With `build`, runs that pre-built bundle and config;
 * without, `config` (default wrangler.toml) on the sources. `kind` labels it: "worker" (the
 * feed) or "floor" (bench/floor).
 *
 * via = "runtime" (default): clients and /health talk to the user worker's socket directly.
 * wrangler dev puts a proxy workerd in front of it (for hot reloads; production has no such hop),
 * and when any proxied request fails, e.g. a connection reset while the isolate is overloaded,
 * the proxy reports "Network connection lost" and wrangler dev exits. via = "proxy" goes through
 * wrangler's port like a browser would.
 */
export async function startWorker({
  kind = "worker",
  config = null,
  root,
  workDir,
  persistRoot,
  label,
  vars,
  intervalMs,
  build,
  logLevel = "debug",
  via = "runtime",
  localObservability = false,
  startTimeoutMs,
  keepPersist = false,
  log,
}) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const persist = path.join(persistRoot ?? workDir, `persist-${label}`);
  // keepPersist: a restart on the state an earlier run left (the drill's "deploy").
  if (!keepPersist) rmSync(persist, { recursive: true, force: true });
  mkdirSync(persist, { recursive: true });
  const logFile = path.join(workDir, `wrangler-${label}.log`);
  const allVars = benchVars(intervalMs, vars);
  const args = [
    "dev",
    ...(build ? ["--no-bundle", "--config", build.config] : config ? ["--config", config] : []),
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persist,
    "--show-interactive-dev-session=false",
    "--log-level",
    // The runtime's own port is only printed at debug level.
    via === "runtime" ? "debug" : logLevel,
  ];
  for (const [k, v] of Object.entries(allVars)) args.push("--var", `${k}:${v}`);
  const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
  log(
    `starting wrangler dev on :${port} (${
      Object.entries(vars)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ") || "defaults"
    }); persist ${persist}; log ${logFile}`,
  );
  // wrangler 4.124 records every local invocation in a trace store (SQLite, an fsync per write)
  // and a streaming tail unless X_LOCAL_OBSERVABILITY=false, whatever [observability] says:
  // a dev-tool cost that production does not have, so it is off unless asked for.
  const env = childEnv(root, { X_LOCAL_OBSERVABILITY: localObservability ? "true" : "false" });
  // Each connected client costs the user workerd about four file descriptors (its socket, and
  // the session object's SQLite database, -wal and -shm). At 5,000 clients that passes a
  // 20,000 limit and workerd dies ("accept: Too many open files"). Node cannot raise its own
  // limit, so wrangler is started through sh with the soft limit raised as far as allowed.
  const proc = spawnRaisedLimit(wrangler, args, { cwd: root, env, logFile });
  const proxyUrl = `http://127.0.0.1:${port}`;
  let targetPort = port;
  try {
    const t0 = Date.now();
    const status = await waitForHealth(proxyUrl, proc, startTimeoutMs, "wrangler dev");
    log(`wrangler dev answered /health (${status}) after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (via === "runtime") {
      const rp = await runtimePort(logFile, 10_000);
      if (rp === null) throw new Error(`could not find the user worker's port in ${logFile}`);
      targetPort = rp;
      await waitForHealth(`http://127.0.0.1:${rp}`, proc, 20_000, "the user worker");
      log(`clients go to the user worker's socket :${rp} (wrangler's proxy on :${port} bypassed)`);
    }
  } catch (error) {
    await killGroup(proc.pid);
    throw error;
  }
  const baseUrl = `http://127.0.0.1:${targetPort}`;
  let exited = null;
  proc.exited.then((e) => (exited = e));
  let crashCache = null;
  return {
    kind,
    /** Non-null once wrangler has exited: the scenario's numbers are then not trustworthy. */
    exited: () => exited,
    /** The user workerd crashed (wrangler restarts it on a new port; every socket is gone). */
    crashes() {
      // The log grows to megabytes at debug level: re-read it at most once a second.
      if (!crashCache || Date.now() - crashCache.at > 1000) crashCache = { at: Date.now(), ...runtimeCrashes(logFile) };
      return crashCache;
    },
    openFiles() {
      return this.pids().map((pid) => openFileLimit(pid));
    },
    baseUrl,
    wsUrl: `ws://127.0.0.1:${targetPort}`,
    port: targetPort,
    proxyPort: port,
    via,
    inspectorPort,
    pid: proc.pid,
    logFile,
    vars: allVars,
    /** The workerd processes of this wrangler (proxy + user worker), re-read each time. */
    pids: () => workerdProcesses(proc.pid).map((p) => p.pid),
    sample() {
      return sample(this.pids());
    },
    /** /health as the edge serves it: cached for up to one interval (X-Edge-Cache says where it came from). */
    async health() {
      return JSON.parse((await this.healthResponse()).body);
    },
    healthResponse() {
      return getFrom(`${baseUrl}/health`, healthAddresses.take());
    },
    /** Stops wrangler dev; `keepPersist` leaves its state for a restart on it. */
    async stop({ keepPersist = false } = {}) {
      await killGroup(proc.pid);
      if (!keepPersist) rmSync(persist, { recursive: true, force: true });
    },
  };
}

export async function startBaseline({ root, workDir, label, intervalMs, startTimeoutMs, log }) {
  const port = await freePort();
  const logFile = path.join(workDir, `baseline-${label}.log`);
  log(`starting baseline server on :${port}; log ${logFile}`);
  const proc = spawnGroup(
    process.execPath,
    [path.join(root, "bench", "baseline-server.mjs"), "--port", String(port), "--interval", String(intervalMs)],
    { cwd: root, env: childEnv(root), logFile },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(baseUrl, proc, startTimeoutMs, "baseline server");
  } catch (error) {
    await killGroup(proc.pid);
    throw error;
  }
  let exited = null;
  proc.exited.then((e) => (exited = e));
  return {
    kind: "baseline",
    exited: () => exited,
    crashes: () => ({ count: 0, cause: null }),
    openFiles() {
      return [openFileLimit(proc.pid)];
    },
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    pid: proc.pid,
    logFile,
    vars: {},
    pids: () => [proc.pid],
    sample() {
      return sample([proc.pid]);
    },
    async health() {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
      return res.json();
    },
    async stop() {
      await killGroup(proc.pid);
    },
  };
}

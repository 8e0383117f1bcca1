// Child processes for the node-driven test runners (test/e2e/run.mjs, test/sdk/integration/run.mjs):
// each started in its own process group with its output teed into a log file, stopped with its
// whole group (workerd may outlive wrangler), and always cleaned up when the runner exits.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what, fn, timeoutMs, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ""}`);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Node ≥ 22 for wrangler: this process's node if it is one, else node_modules/.bin/node. */
export function node22(root) {
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= 22) return process.execPath;
  const local = join(root, "node_modules/.bin/node");
  if (existsSync(local)) return local;
  throw new Error("wrangler needs Node 22: run through npm (node_modules/.bin/node) or install node@22");
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * The runner's children. `logFile(name)` names each one's log; `log` prints the runner's notes.
 * Installs exit and signal handlers that stop them all.
 */
export function createProcesses({ cwd, logFile, log }) {
  /** @type {Map<string, import("node:child_process").ChildProcess>} */
  const children = new Map();
  /** The last lines each process printed, kept after it exits. */
  const tails = new Map();

  function start(name, command, args, env = {}) {
    const file = createWriteStream(logFile(name), { flags: "a" });
    const tail = [];
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const onData = (chunk) => {
      file.write(chunk);
      for (const line of chunk.toString().split("\n")) if (line.trim()) tail.push(line);
      while (tail.length > 60) tail.shift();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code, signal) => {
      file.write(`\n[exited code=${code} signal=${signal}]\n`);
      file.end();
      if (children.get(name) === child) children.delete(name);
    });
    tails.set(name, tail);
    children.set(name, child);
    return child;
  }

  async function stop(name) {
    const child = children.get(name);
    if (!child) return;
    children.delete(name);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    killGroup(child, "SIGTERM");
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    // workerd may outlive wrangler in the same group.
    killGroup(child, "SIGKILL");
  }

  async function stopAll() {
    await Promise.all([...children.keys()].map(stop));
  }

  process.on("exit", () => {
    for (const child of children.values()) killGroup(child, "SIGKILL");
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      log(`${sig}: stopping`);
      stopAll().finally(() => process.exit(130));
    });
  }

  return {
    start,
    stop,
    stopAll,
    running: (name) => children.has(name),
    tail: (name, n = 25) => (tails.get(name) ?? []).slice(-n).join("\n"),
  };
}

/**
 * `wrangler dev` on 127.0.0.1:`port` with `--persist-to persistDir` and `--var`s; resolves with
 * its base URL once /health answers, after triggering the cron once (nothing fires it locally).
 */
export async function startWrangler(procs, { root, port, persistDir, vars, inspectorPort, name = "wrangler", log }) {
  const args = [
    join(root, "node_modules/wrangler/bin/wrangler.js"),
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort ?? (await freePort())),
    "--persist-to",
    persistDir,
    "--show-interactive-dev-session=false",
    "--log-level",
    "info",
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  procs.start(name, node22(root), args, {
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_LOG: "info",
    NO_UPDATE_NOTIFIER: "1",
    FORCE_COLOR: "0",
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    "wrangler dev to serve /health",
    async () => {
      if (!procs.running(name)) throw new Error(`wrangler exited:\n${procs.tail(name, 60)}`);
      const res = await fetch(`${base}/health`);
      return res.status === 200 || res.status === 503;
    },
    120_000,
    500,
  );
  await fetch(`${base}/cdn-cgi/local/scheduled`).catch(() => {});
  log?.(`wrangler dev on ${base}`);
  return base;
}

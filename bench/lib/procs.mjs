// Process plumbing for the benchmark: free ports, spawning servers in their own process
// group, finding the workerd processes wrangler spawned, RSS and CPU from /proc, and
// making sure everything we started dies with us.
import { spawn } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";

const CLK_TCK = 100; // Linux USER_HZ; `getconf CLK_TCK` is 100 on every mainstream kernel.
const PAGE_KB = 4;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Aborts the run (and kills every server it started) after `minutes`; returns the timer. */
export function abortAfter(minutes, log) {
  const timer = setTimeout(() => {
    log(`max time of ${minutes} min reached: aborting`);
    killAllGroupsSync();
    process.exit(1);
  }, minutes * 60_000);
  timer.unref();
  return timer;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Every process group we started; killed on exit whatever happens. */
const groups = new Set();

/**
 * Spawns `cmd` detached (its own process group, pgid = pid) with output to `logFile`.
 * Returns { pid, child, exited: Promise<{code, signal}>, logFile }.
 */
export function spawnGroup(cmd, args, { cwd, env, logFile }) {
  const out = createWriteStream(logFile, { flags: "a" });
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  groups.add(child.pid);
  const exited = new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      resolve({ code, signal });
    }),
  );
  return { pid: child.pid, child, exited, logFile };
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroupNow(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * Stops a process group: SIGTERM, then SIGKILL after `graceMs`. Descendants that left the
 * group (none do today, but workerd could) are found through the process tree and killed too.
 */
export async function killGroup(pgid, graceMs = 4000) {
  const stragglers = descendants(pgid);
  killGroupNow(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive(pgid) && stragglers.every((p) => !alive(p.pid))) break;
    await sleep(100);
  }
  killGroupNow(pgid, "SIGKILL");
  for (const p of stragglers) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  groups.delete(pgid);
}

/** Synchronous last resort for process exit paths. */
export function killAllGroupsSync() {
  for (const pgid of groups) {
    const kids = descendants(pgid);
    killGroupNow(pgid, "SIGKILL");
    for (const p of kids) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  }
  groups.clear();
}

let cleanupInstalled = false;
export function installCleanup(onSignal) {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on("exit", killAllGroupsSync);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      process.stderr.write(`\n[bench] ${sig}: stopping servers\n`);
      try {
        onSignal?.(sig);
      } finally {
        killAllGroupsSync();
        process.exit(130);
      }
    });
  }
}

/** All processes as { pid, ppid, comm, utime, stime, rssPages }. */
function processTable() {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // comm may contain spaces/parens: split after the last ')'.
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const f = stat.slice(close + 2).split(" ");
      // f[0] = state (field 3); ppid = field 4; utime = 14; stime = 15; rss = 24.
      out.push({
        pid: Number(name),
        ppid: Number(f[1]),
        comm,
        utime: Number(f[11]),
        stime: Number(f[12]),
        rssPages: Number(f[21]),
      });
    } catch {
      /* raced with exit */
    }
  }
  return out;
}

export function descendants(rootPid) {
  const table = processTable();
  const byParent = new Map();
  for (const p of table) {
    if (!byParent.has(p.ppid)) byParent.set(p.ppid, []);
    byParent.get(p.ppid).push(p);
  }
  const out = [];
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    for (const child of byParent.get(pid) ?? []) {
      out.push(child);
      stack.push(child.pid);
    }
  }
  return out;
}

/** The workerd processes under `rootPid` (wrangler spawns two: its proxy and the user worker). */
export function workerdProcesses(rootPid) {
  return descendants(rootPid).filter((p) => p.comm === "workerd");
}

/**
 * Memory and CPU of a set of processes: RSS summed from /proc/<pid>/status (VmRSS, kB)
 * and CPU seconds (utime + stime).
 */
export function sample(pids) {
  let rssKb = 0;
  let cpuTicks = 0;
  const per = [];
  const table = new Map(processTable().map((p) => [p.pid, p]));
  for (const pid of pids) {
    let kb = 0;
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      kb = m ? Number(m[1]) : (table.get(pid)?.rssPages ?? 0) * PAGE_KB;
    } catch {
      continue;
    }
    const p = table.get(pid);
    const cpu = p ? p.utime + p.stime : 0;
    let fds = null;
    try {
      fds = readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      /* not ours to read */
    }
    rssKb += kb;
    cpuTicks += cpu;
    per.push({ pid, rssKb: kb, cpuS: cpu / CLK_TCK, fds });
  }
  return { at: Date.now(), rssKb, cpuS: cpuTicks / CLK_TCK, per };
}

export function machineInfo() {
  let cpuModel = "unknown";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) cpuModel = m[1].trim();
  } catch {
    /* not Linux */
  }
  let openFiles = null;
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (m) openFiles = { soft: m[1], hard: m[2] };
  } catch {
    /* not Linux */
  }
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    openFiles,
    date: new Date().toISOString(),
  };
}

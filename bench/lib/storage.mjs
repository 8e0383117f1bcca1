// Where the Worker's Durable Objects keep their storage in a scenario (`--storage`):
//
//   disk    wrangler dev, --persist-to under the run's tmp dir (or --persist-root): local workerd
//           commits each object's SQLite writes with an fsync, synchronously on its one thread.
//   tmpfs   the same wrangler dev and files, with --persist-to under /dev/shm: no disk fsync.
//   memory  the same bundle on Miniflare with workerd's in-memory Durable Object storage: no
//           files at all (lib/miniflare-server.mjs).
//   auto    tmpfs when the clients' file descriptors fit workerd's open-file limit, else memory.
import { mkdtempSync, rmSync, statfsSync } from "node:fs";
import path from "node:path";

/** The user workerd holds about this many per client on SQLite storage: socket, .sqlite, -wal, -shm. */
export const FDS_PER_CLIENT = 4;
/** workerd's own files and sockets before any client (about 45 measured), with room to spare. */
export const FD_MARGIN = 500;

export const STORAGE_MODES = ["disk", "tmpfs", "memory"];

const TMPFS_MAGIC = 0x01021994;

/** /dev/shm as a tmpfs the bench can write to, or why not. */
export function checkTmpfs(dir = "/dev/shm") {
  try {
    const { type } = statfsSync(dir);
    if (type !== TMPFS_MAGIC) return { ok: false, dir, reason: `${dir} is not a tmpfs (filesystem type 0x${type.toString(16)})` };
  } catch (error) {
    return { ok: false, dir, reason: `${dir}: ${error.code ?? error.message}` };
  }
  try {
    const probe = mkdtempSync(path.join(dir, "btc-bench-probe-"));
    rmSync(probe, { recursive: true, force: true });
  } catch (error) {
    return { ok: false, dir, reason: `${dir} is not writable (${error.code ?? error.message})` };
  }
  return { ok: true, dir, reason: null };
}

/** The largest client count whose file descriptors fit `limit` on file-backed storage. */
export function maxClientsOnFiles(limit) {
  return Number.isFinite(limit) ? Math.floor((limit - FD_MARGIN) / FDS_PER_CLIENT) : Infinity;
}

/**
 * Decides the storage of each Worker scenario. `probeMemory()` (async, cached) says whether the
 * Worker runs on in-memory storage at all. Returns
 * { mode, requested, reason, persistRoot (file modes), fallbackFrom? } from `resolve(n, requested)`,
 * or { unavailable: reason } when the requested mode cannot run.
 */
export function createStoragePlanner({ runId, fdLimit, diskRoot, probeMemory, log }) {
  let tmpfs = null; // checkTmpfs() result + the run's dir under it, made on first use
  let memory = null; // probeMemory() result
  const maxFiles = maxClientsOnFiles(fdLimit);
  const fits = (n) => n <= maxFiles;
  const fdReason = (n) =>
    `${n.toLocaleString("en-US")} clients need ~${(n * FDS_PER_CLIENT).toLocaleString("en-US")} file descriptors in workerd on SQLite files (${FDS_PER_CLIENT} each), more than its limit of ${fdLimit.toLocaleString("en-US")} allows (up to ${maxFiles.toLocaleString("en-US")} clients)`;

  function tmpfsState() {
    if (!tmpfs) {
      tmpfs = checkTmpfs();
      if (tmpfs.ok) {
        tmpfs.root = mkdtempSync(path.join(tmpfs.dir, `btc-bench-${runId}-`));
        // A tmpfs dir is memory: gone with the run, however the run ends.
        process.on("exit", () => rmSync(tmpfs.root, { recursive: true, force: true }));
      } else {
        log(`WARNING: tmpfs storage unavailable (${tmpfs.reason}); those scenarios run on disk instead`);
      }
    }
    return tmpfs;
  }

  async function memoryState() {
    if (!memory) {
      memory = await probeMemory();
      if (!memory.ok) log(`in-memory storage unavailable: ${memory.reason}`);
    }
    return memory;
  }

  const disk = (requested, reason) => ({ mode: "disk", requested, reason, persistRoot: diskRoot });
  function fileMode(requested, reason) {
    const t = tmpfsState();
    if (t.ok) return { mode: "tmpfs", requested, reason, persistRoot: t.root };
    return { ...disk(requested, `${reason ? `${reason}; ` : ""}tmpfs unavailable: ${t.reason}`), fallbackFrom: "tmpfs" };
  }

  return {
    fdLimit,
    maxClientsOnFiles: maxFiles,
    fits,
    fdReason,
    /** What the run found out about tmpfs and memory (for the JSON and the report). */
    info: () => ({ fdLimit, fdsPerClient: FDS_PER_CLIENT, fdMargin: FD_MARGIN, maxClientsOnFiles: maxFiles, tmpfs, memory }),
    memoryState,
    async resolve(n, requested) {
      if (requested === "disk") return disk("disk", "--storage disk");
      if (requested === "tmpfs") return fileMode("tmpfs", "--storage tmpfs");
      if (requested === "memory") {
        const m = await memoryState();
        return m.ok ? { mode: "memory", requested, reason: "--storage memory" } : { unavailable: m.reason, requested };
      }
      // auto
      if (fits(n)) return fileMode("auto", `fits the open-file limit (${FDS_PER_CLIENT} per client + ${FD_MARGIN} ≤ ${fdLimit})`);
      const m = await memoryState();
      if (m.ok) return { mode: "memory", requested: "auto", reason: fdReason(n) };
      // Nothing better: run on files and let the limit show where it breaks.
      log(`WARNING: ${fdReason(n)}, and in-memory storage is unavailable; running ${n} clients on SQLite files anyway`);
      return { ...fileMode("auto", `${fdReason(n)}; in-memory storage unavailable: ${m.reason}`), overLimit: true };
    },
    cleanup() {
      if (tmpfs?.root) rmSync(tmpfs.root, { recursive: true, force: true });
    },
  };
}

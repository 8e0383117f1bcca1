// Where the Worker's Durable Objects keep their storage in a scenario (`--storage`), and how many
// clients fit workerd's open-file limit on that storage.
//
//   disk    wrangler dev, --persist-to under the run's tmp dir (or --persist-root): local workerd
//           commits each object's SQLite writes with an fsync, synchronously on its one thread.
//   tmpfs   the same wrangler dev and files, with --persist-to under /dev/shm: no disk fsync.
//   auto    tmpfs when /dev/shm is a writable tmpfs, else disk (with a warning).
//
// There is no in-memory mode: workerd's in-memory Durable Object storage has no SQL API, and
// every class of this Worker uses ctx.storage.sql.
import { mkdtempSync, rmSync, statfsSync } from "node:fs";
import path from "node:path";

/** The user workerd holds about this many per client: socket, SQLite .sqlite, -wal, -shm. */
export const FDS_PER_CLIENT = 4;
/**
 * workerd's files beyond 4 per client. Measured: 45 before any client; 4,052 at 1,000 clients
 * (4.01 each, hub and relay objects included); 4,974 clients connected under a 20,000 limit
 * before workerd died, i.e. ~100 beyond 4 per client at the crash (base, hub and relays' SQLite
 * files, sockets of retried handshakes). 500 keeps ~400 spare: with a 20,000 limit, up to 4,875
 * clients fit, and the substitute size is 4,800 (~19,300 files).
 */
export const FD_MARGIN = 500;

export const STORAGE_MODES = ["disk", "tmpfs"];

const TMPFS_MAGIC = 0x01021994;
const int = (x) => (Number.isFinite(x) ? x.toLocaleString("en-US") : String(x));

/** /dev/shm as a tmpfs the bench can write to, or why not. */
export function checkTmpfs(dir = "/dev/shm") {
  try {
    const { type } = statfsSync(dir);
    if (type !== TMPFS_MAGIC)
      return { ok: false, dir, reason: `${dir} is not a tmpfs (filesystem type 0x${type.toString(16)})` };
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

/**
 * The open-file budget of the Worker's workerd. `limit` is what a server started by the bench
 * gets (the hard limit, read once); `override` (--fd-limit) pretends a lower one.
 *
 *   fits(n)        4 n + FD_MARGIN ≤ limit
 *   substitute(n)  the largest size that fits, rounded down to a multiple of 100 (null if none)
 *   reason(n)      "needs ~N open files, the hard limit here is L (…)"
 */
export function fdBudget({ limit: realLimit, hardLimit, override = null }) {
  const overridden = Number.isFinite(override) && override > 0 && !(override >= realLimit);
  const limit = overridden ? override : realLimit;
  const need = (n) => n * FDS_PER_CLIENT + FD_MARGIN;
  const maxClients = Number.isFinite(limit) ? Math.max(0, Math.floor((limit - FD_MARGIN) / FDS_PER_CLIENT)) : Infinity;
  const fits = (n) => n <= maxClients;
  const subSize = maxClients >= 100 ? Math.floor(maxClients / 100) * 100 : maxClients > 0 ? maxClients : null;
  const limitText = overridden
    ? `the limit here is ${int(limit)} (--fd-limit; really ${int(realLimit)})`
    : realLimit === hardLimit
      ? `the hard limit here is ${int(limit)}`
      : `workerd's open-file limit here is ${int(limit)}`;
  return {
    limit,
    realLimit,
    hardLimit,
    overridden,
    maxClients,
    need,
    fits,
    substitute: (n) => (fits(n) ? n : subSize),
    reason: (n) =>
      `needs ~${int(need(n))} open files, ${limitText} ` +
      `(${FDS_PER_CLIENT} per client: socket + SQLite db, -wal, -shm; + ${FD_MARGIN} margin)`,
    info: () => ({
      limit,
      realLimit,
      hardLimit,
      overridden,
      fdsPerClient: FDS_PER_CLIENT,
      fdMargin: FD_MARGIN,
      maxClients,
      substituteSize: subSize,
    }),
  };
}

/**
 * Decides the storage of each Worker scenario: `resolve(requested)` returns
 * { mode, requested, reason, persistRoot, fallbackFrom? }.
 */
export function createStoragePlanner({ runId, diskRoot, log }) {
  let tmpfs = null; // checkTmpfs() result + the run's dir under it, made on first use

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

  const disk = (requested, reason) => ({ mode: "disk", requested, reason, persistRoot: diskRoot });

  return {
    tmpfsState,
    /** What the run found out about tmpfs (for the JSON and the report). */
    info: () => ({ tmpfs }),
    resolve(requested) {
      if (requested === "disk") return disk("disk", "--storage disk");
      const t = tmpfsState();
      const reason = requested === "tmpfs" ? "--storage tmpfs" : "auto: /dev/shm is a writable tmpfs";
      if (t.ok) return { mode: "tmpfs", requested, reason, persistRoot: t.root };
      return { ...disk(requested, `tmpfs unavailable: ${t.reason}`), fallbackFrom: "tmpfs" };
    },
    cleanup() {
      if (tmpfs?.root) rmSync(tmpfs.root, { recursive: true, force: true });
    },
  };
}

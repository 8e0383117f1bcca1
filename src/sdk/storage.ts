/**
 * Where the client keeps what it needs to resume (client_id, last_seq, epoch): any store with
 * the Web Storage methods (localStorage in a browser, a file in the CLI, memory by default).
 * Every access tolerates a store that throws (private mode, quota): the feed then still works,
 * it just cannot resume after a reload.
 */
import { CLIENT_ID_PATTERN, EPOCH_PATTERN } from "../protocol";

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function memoryStorage(): KeyValueStorage {
  const map = new Map<string, string>();
  return {
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, String(value)),
    removeItem: (key) => void map.delete(key),
  };
}

export interface ResumePoint {
  clientId: string | null;
  lastSeq: number | null;
  epoch: string | null;
}

export const DEFAULT_STORAGE_PREFIX = "btcfeed.";

const keys = (prefix: string) => ({
  clientId: `${prefix}client_id`,
  lastSeq: `${prefix}last_seq`,
  epoch: `${prefix}epoch`,
});

function read(storage: KeyValueStorage, key: string): string | null {
  try {
    return storage.getItem(key);
  } catch {
    return null;
  }
}

function write(storage: KeyValueStorage, key: string, value: string | null): void {
  try {
    if (value === null) storage.removeItem(key);
    else storage.setItem(key, value);
  } catch {
    // Unavailable or full: see above.
  }
}

export function loadResumePoint(storage: KeyValueStorage, prefix = DEFAULT_STORAGE_PREFIX): ResumePoint {
  const k = keys(prefix);
  const clientId = read(storage, k.clientId);
  const seq = read(storage, k.lastSeq);
  const epoch = read(storage, k.epoch);
  const lastSeq = seq !== null && /^\d{1,15}$/.test(seq) ? Number(seq) : null;
  return {
    clientId: clientId !== null && CLIENT_ID_PATTERN.test(clientId) ? clientId : null,
    lastSeq,
    epoch: epoch !== null && EPOCH_PATTERN.test(epoch) ? epoch : null,
  };
}

/** Returns a saver that writes only the keys that changed since its last call. */
export function resumePointSaver(
  storage: KeyValueStorage,
  prefix = DEFAULT_STORAGE_PREFIX,
  initial?: ResumePoint,
): (p: ResumePoint) => void {
  const k = keys(prefix);
  let last: Record<string, string | null> = initial
    ? {
        [k.clientId]: initial.clientId,
        [k.lastSeq]: initial.lastSeq === null ? null : String(initial.lastSeq),
        [k.epoch]: initial.epoch,
      }
    : {};
  return (p) => {
    const next: Record<string, string | null> = {
      [k.clientId]: p.clientId,
      [k.lastSeq]: p.lastSeq === null ? null : String(p.lastSeq),
      [k.epoch]: p.epoch,
    };
    for (const [key, value] of Object.entries(next)) if (last[key] !== value) write(storage, key, value);
    last = next;
  };
}

/** A KeyValueStorage kept in a small JSON file (`--state`), written atomically on every change. */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { KeyValueStorage } from "../sdk";

export function fileStorage(path: string): KeyValueStorage {
  let data: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      for (const [k, v] of Object.entries(parsed)) if (typeof v === "string") data[k] = v;
    }
  } catch {
    // No file yet (or not ours): start empty; the first write creates it.
  }
  const flush = () => {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
    renameSync(tmp, path);
  };
  return {
    getItem: (key) => data[key] ?? null,
    setItem(key, value) {
      data = { ...data, [key]: String(value) };
      flush();
    },
    removeItem(key) {
      if (!(key in data)) return;
      const { [key]: _gone, ...rest } = data;
      data = rest;
      flush();
    },
  };
}

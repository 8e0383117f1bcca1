/**
 * localStorage for the page: its own preferences (currencies, chart focus) here; the feed's resume
 * point (client_id, last_seq, epoch) is kept by the client library in the same store under the
 * same "btcfeed." prefix. Tolerant of storage being disabled or full (private mode, quotas).
 */
import { isCurrency, type Currency } from "../protocol";
import type { KeyValueStorage } from "../sdk";

export const STORAGE_PREFIX = "btcfeed.";

const KEY = {
  currencies: `${STORAGE_PREFIX}currencies`,
  focus: `${STORAGE_PREFIX}focus`,
} as const;

/** window.localStorage, or null where even reaching it throws (some browsers' privacy modes). */
export function browserStorage(): KeyValueStorage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function get(storage: KeyValueStorage | null, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function set(storage: KeyValueStorage | null, key: string, value: string | null): void {
  try {
    if (value === null) storage?.removeItem(key);
    else storage?.setItem(key, value);
  } catch {
    // Storage unavailable: the page still works, it just forgets the choice on reload.
  }
}

export interface PagePrefs {
  currencies: Currency[];
  focus: Currency | null;
}

export function loadPrefs(storage: KeyValueStorage | null): PagePrefs {
  const currencies = (get(storage, KEY.currencies) ?? "").split(",").filter((c): c is Currency => isCurrency(c));
  const focusRaw = get(storage, KEY.focus);
  return { currencies, focus: focusRaw !== null && isCurrency(focusRaw) ? focusRaw : null };
}

/** Writes only what changed since the last call. */
export function createPrefsSaver(storage: KeyValueStorage | null): (p: PagePrefs) => void {
  let last: Record<string, string | null> = {};
  return (p) => {
    const next: Record<string, string | null> = { [KEY.currencies]: p.currencies.join(","), [KEY.focus]: p.focus };
    for (const [k, v] of Object.entries(next)) if (last[k] !== v) set(storage, k, v);
    last = next;
  };
}

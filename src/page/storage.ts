/**
 * The page's storage. Its preferences (currencies, chart focus and range) belong to the browser profile:
 * localStorage, shared by every tab. The feed's resume point (client_id, last_seq, epoch, kept by
 * the client library under the same "btcfeed." prefix) belongs to the tab: sessionStorage, which
 * a reload keeps and other tabs do not see (tab-identity.ts handles a tab that starts with a copy).
 * Tolerant of storage being disabled or full (private mode, quotas).
 */
import { isCurrency, type Currency } from "../protocol";
import type { KeyValueStorage } from "../sdk";
import { isChartRange, type ChartRange } from "./chart-range";
import { loadResumePoint, resumePointSaver } from "../sdk/storage";

export const STORAGE_PREFIX = "btcfeed.";

const KEY = {
  currencies: `${STORAGE_PREFIX}currencies`,
  focus: `${STORAGE_PREFIX}focus`,
  range: `${STORAGE_PREFIX}range`,
} as const;

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
  /** The chart's range; null: never chosen (the page shows the hour). */
  range: ChartRange | null;
}

export function loadPrefs(storage: KeyValueStorage | null): PagePrefs {
  const currencies = (get(storage, KEY.currencies) ?? "").split(",").filter((c): c is Currency => isCurrency(c));
  const focusRaw = get(storage, KEY.focus);
  const rangeRaw = get(storage, KEY.range);
  return {
    currencies,
    focus: focusRaw !== null && isCurrency(focusRaw) ? focusRaw : null,
    range: isChartRange(rangeRaw) ? rangeRaw : null,
  };
}

/** Writes only what changed since the last call. */
export function createPrefsSaver(storage: KeyValueStorage | null): (p: PagePrefs) => void {
  let last: Record<string, string | null> = {};
  return (p) => {
    const next: Record<string, string | null> = {
      [KEY.currencies]: p.currencies.join(","),
      [KEY.focus]: p.focus,
      [KEY.range]: p.range,
    };
    for (const [k, v] of Object.entries(next)) if (last[k] !== v) set(storage, k, v);
    last = next;
  };
}

/** The client_id the tab's resume point names, if any. */
export function storedClientId(tab: KeyValueStorage | null): string | null {
  return tab ? loadResumePoint(tab, STORAGE_PREFIX).clientId : null;
}

/**
 * Earlier versions of the page kept the resume point in localStorage, shared by every tab. The
 * first tab that loads without one of its own takes it over; either way it leaves localStorage.
 */
export function adoptSharedResumePoint(shared: KeyValueStorage | null, tab: KeyValueStorage | null): void {
  if (!shared) return;
  const old = loadResumePoint(shared, STORAGE_PREFIX);
  if (tab && old.clientId !== null && storedClientId(tab) === null) resumePointSaver(tab, STORAGE_PREFIX)(old);
  resumePointSaver(shared, STORAGE_PREFIX)({ clientId: null, lastSeq: null, epoch: null });
}

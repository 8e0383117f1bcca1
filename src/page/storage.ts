/** localStorage, tolerant of it being disabled or full (private mode, quotas). */
import { isCurrency, CLIENT_ID_PATTERN, type Currency } from "../protocol";
import type { Persisted } from "./state";

const KEY = {
  clientId: "btcfeed.client_id",
  lastSeq: "btcfeed.last_seq",
  currencies: "btcfeed.currencies",
  focus: "btcfeed.focus",
} as const;

function get(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function set(key: string, value: string | null): void {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    // Storage unavailable: the page still works, it just cannot resume after a reload.
  }
}

export function loadPersisted(): Persisted {
  const clientId = get(KEY.clientId);
  const seqRaw = get(KEY.lastSeq);
  const lastSeq = seqRaw !== null && /^\d{1,15}$/.test(seqRaw) ? Number(seqRaw) : null;
  const currencies = (get(KEY.currencies) ?? "")
    .split(",")
    .filter((c): c is Currency => isCurrency(c));
  const focusRaw = get(KEY.focus);
  return {
    clientId: clientId !== null && CLIENT_ID_PATTERN.test(clientId) ? clientId : null,
    lastSeq,
    currencies,
    focus: focusRaw !== null && isCurrency(focusRaw) ? focusRaw : null,
  };
}

/** Writes only what changed since the last call. */
export function createPersister(): (p: Persisted) => void {
  let last: Record<string, string | null> = {};
  return (p) => {
    const next: Record<string, string | null> = {
      [KEY.clientId]: p.clientId,
      [KEY.lastSeq]: p.lastSeq === null ? null : String(p.lastSeq),
      [KEY.currencies]: p.currencies.join(","),
      [KEY.focus]: p.focus,
    };
    for (const [k, v] of Object.entries(next)) {
      if (last[k] !== v) set(k, v);
    }
    last = next;
  };
}

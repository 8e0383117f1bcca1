/**
 * What the page takes from the browser for its storage and its tab's identity (storage.ts and
 * tab-identity.ts stay free of browser globals, so that they are tested in the workers pool).
 */
import type { KeyValueStorage } from "../sdk";
import { randomId } from "../shared/random-id";
import type { TabChannel, TabIdentityDeps } from "./tab-identity";

/** window.localStorage or sessionStorage, or null where even reaching it throws (some privacy modes). */
export function browserStorage(kind: "localStorage" | "sessionStorage"): KeyValueStorage | null {
  try {
    return window[kind];
  } catch {
    return null;
  }
}

/**
 * Long enough for a busy tab to answer and a reloaded document to let go. With Web Locks only a
 * contested id waits; without them (not a secure context) every stored id waits for answers.
 */
const CLAIM_WAIT_MS = 500;

function broadcastChannel(name: string): TabChannel | null {
  if (typeof BroadcastChannel !== "function") return null;
  const channel = new BroadcastChannel(name);
  return {
    post: (message) => channel.postMessage(message),
    listen(listener) {
      const onMessage = (event: MessageEvent) => listener(event.data);
      channel.addEventListener("message", onMessage);
      return () => channel.removeEventListener("message", onMessage);
    },
  };
}

/** Web Locks and a BroadcastChannel, where the browser has them. */
export function browserTabs(): TabIdentityDeps {
  return {
    // Only in secure contexts (https, localhost): elsewhere navigator.locks is undefined.
    locks: navigator.locks ?? null,
    channel: broadcastChannel("btcfeed.tabs"),
    // Like the server's own ids: 128 random bits.
    newClientId: () => randomId(16),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    waitMs: CLAIM_WAIT_MS,
  };
}

/**
 * The hub's answers to HTTP reads, kept at the edge so that a flood of reads costs the one hub
 * at most one call per key per interval and location: this isolate's memory first, then the
 * location's Cache API (`caches.default`, shared by every isolate there), then the hub.
 *
 * Requests never await each other's promises (the runtime cancels a continuation whose creating
 * request has ended): while one request of this isolate refreshes a key, the others answer with
 * the value it replaces or, for a key never fetched here, look again every WAIT_STEP_MS; either
 * for at most REFRESH_GRACE_MS, then they fetch it themselves.
 */
import { bodyEtag } from "./etag";

/** What the hub said, as the HTTP body to send and its status. */
export interface Answer {
  body: string;
  status: number;
}

export interface CachedAnswer extends Answer {
  etag: string;
  storedAtMs: number;
  ttlS: number;
  /** Where this request got it: this isolate's memory, the location's cache, the hub, or a value being refreshed. */
  source: "memory" | "cache" | "hub" | "stale";
}

/** Cache keys live under this path of the request's own origin, which no route serves. */
export const KEY_PREFIX = "/__edge-cache/v1/";

/** Seconds an answer stays fresh: one poll interval (a new price cannot come sooner), at least 1 s. */
export function ttlForInterval(pollIntervalMs: number): number {
  return Math.max(1, Math.ceil(pollIntervalMs / 1000));
}

/** Whole seconds until the answer expires (0 once it has). */
export function secondsLeft(answer: CachedAnswer, nowMs: number): number {
  return Math.max(0, Math.floor((answer.storedAtMs + answer.ttlS * 1000 - nowMs) / 1000));
}

const isFresh = (answer: CachedAnswer, nowMs: number) => nowMs < answer.storedAtMs + answer.ttlS * 1000;

/** How long an expired value may stand in while one request of this isolate fetches its successor. */
export const REFRESH_GRACE_MS = 2000;
const WAIT_STEP_MS = 5;
/** The most body bytes this isolate keeps in memory; the oldest keys go first beyond it. */
export const MEMORY_BUDGET_BYTES = 8 * 1024 * 1024;

const HEADER_STATUS = "X-Answer-Status";
const HEADER_STORED_AT = "X-Stored-At";
const HEADER_TTL = "X-Answer-Ttl";

interface Slot {
  answer: CachedAnswer | null;
  /** The request of this isolate refreshing this key now, if any. */
  refreshing: { sinceMs: number; token: number } | null;
}

export interface EdgeCacheDeps {
  /** The location's cache; null where there is none. */
  cache: () => Cache | null;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export class EdgeCache {
  private readonly slots = new Map<string, Slot>();
  private bytes = 0;
  private tokens = 0;

  constructor(private readonly deps: EdgeCacheDeps) {}

  /**
   * The answer for `key`: fresh from memory or the location's cache, else from `load` (the hub),
   * then kept for `ttlS(answer)` seconds in both.
   */
  async get(
    key: string,
    load: () => Promise<Answer>,
    ttlS: (answer: Answer) => number,
    waitUntil: (work: Promise<unknown>) => void,
  ): Promise<CachedAnswer> {
    const now = this.deps.now();
    const slot = this.slots.get(key);
    if (slot?.answer && isFresh(slot.answer, now)) return { ...slot.answer, source: "memory" };
    if (slot?.refreshing && now - slot.refreshing.sinceMs < REFRESH_GRACE_MS) {
      if (slot.answer) return { ...slot.answer, source: "stale" };
      const awaited = await this.awaitFirst(key, slot.refreshing.sinceMs + REFRESH_GRACE_MS);
      if (awaited) return { ...awaited, source: "memory" };
    }
    // Claimed before the first await: requests arriving meanwhile take the branch above.
    const claim = this.claim(key, this.deps.now());
    try {
      const answer = (await this.fromCache(key)) ?? (await this.fromHub(key, load, ttlS, waitUntil));
      this.remember(key, answer);
      return answer;
    } finally {
      this.release(key, claim);
    }
  }

  /** Keys held in this isolate's memory (for tests and reports). */
  get size(): number {
    return this.slots.size;
  }

  /** A key being fetched for the first time by another request here: its answer, once there, or null at the deadline. */
  private async awaitFirst(key: string, deadlineMs: number): Promise<CachedAnswer | null> {
    while (this.deps.now() < deadlineMs) {
      await this.deps.sleep(WAIT_STEP_MS);
      const slot = this.slots.get(key);
      if (slot?.answer) return slot.answer;
      if (!slot?.refreshing) return null; // that fetch failed: try ourselves
    }
    return null;
  }

  private claim(key: string, now: number): number {
    const refreshing = { sinceMs: now, token: ++this.tokens };
    const slot = this.slots.get(key);
    if (slot) slot.refreshing = refreshing;
    else this.slots.set(key, { answer: null, refreshing });
    return refreshing.token;
  }

  private release(key: string, token: number): void {
    const slot = this.slots.get(key);
    if (slot?.refreshing?.token !== token) return;
    slot.refreshing = null;
    if (!slot.answer) this.slots.delete(key);
  }

  private remember(key: string, answer: CachedAnswer): void {
    const previous = this.slots.get(key);
    if (previous?.answer) this.bytes -= previous.answer.body.length;
    // Re-inserted, so the Map's order is the order of last refresh: eviction takes the oldest.
    this.slots.delete(key);
    this.slots.set(key, { answer, refreshing: previous?.refreshing ?? null });
    this.bytes += answer.body.length;
    for (const [oldKey, slot] of this.slots) {
      if (this.bytes <= MEMORY_BUDGET_BYTES || oldKey === key) break;
      if (slot.answer) this.bytes -= slot.answer.body.length;
      this.slots.delete(oldKey);
    }
  }

  private async fromCache(key: string): Promise<CachedAnswer | null> {
    const cache = this.deps.cache();
    if (!cache) return null;
    let hit: Response | undefined;
    try {
      hit = await cache.match(key);
    } catch {
      return null; // a cache that fails is a miss, not an outage
    }
    if (!hit) return null;
    const status = Number(hit.headers.get(HEADER_STATUS));
    const storedAtMs = Number(hit.headers.get(HEADER_STORED_AT));
    const ttlS = Number(hit.headers.get(HEADER_TTL));
    const etag = hit.headers.get("ETag");
    const body = await hit.text();
    if (!Number.isInteger(status) || !Number.isFinite(storedAtMs) || !(ttlS > 0) || !etag) return null;
    return { body, status, etag, storedAtMs, ttlS, source: "cache" };
  }

  private async fromHub(
    key: string,
    load: () => Promise<Answer>,
    ttlS: (answer: Answer) => number,
    waitUntil: (work: Promise<unknown>) => void,
  ): Promise<CachedAnswer> {
    const { body, status } = await load();
    const answer: CachedAnswer = {
      body,
      status,
      etag: await bodyEtag(body),
      storedAtMs: this.deps.now(),
      ttlS: ttlS({ body, status }),
      source: "hub",
    };
    const cache = this.deps.cache();
    if (cache) {
      // Stored as a 200 whatever the answer's status: a cache may refuse to keep a 503.
      const stored = new Response(body, {
        headers: {
          "Content-Type": "application/json; charset=utf-8",
          "Cache-Control": `max-age=${answer.ttlS}`,
          ETag: answer.etag,
          [HEADER_STATUS]: String(status),
          [HEADER_STORED_AT]: String(answer.storedAtMs),
          [HEADER_TTL]: String(answer.ttlS),
        },
      });
      waitUntil(cache.put(key, stored).catch(() => undefined));
    }
    return answer;
  }
}

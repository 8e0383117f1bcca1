/**
 * The hub's answers to HTTP reads, kept at the edge so that a flood of reads costs the one hub
 * at most one call per key per interval and location: this isolate's memory first, then the
 * location's Cache API (`caches.default`, shared by every isolate there), then the hub.
 *
 * Requests never await each other's promises (the runtime cancels a continuation whose creating
 * request has ended): while one request of this isolate refreshes a key, the others answer with
 * the value it replaces or, for a key never fetched here, look again every WAIT_STEP_MS; either
 * for at most REFRESH_GRACE_MS, then they fetch it themselves.
 *
 * While the hub fails (throws, or takes longer than HUB_TIMEOUT_MS), the last answer for the key
 * stands in, marked stale, for up to its stale limit past its TTL: the Cache API keeps each answer
 * that long, and freshness is read from the time stored beside it. A key with nothing to stand in
 * gets null (the caller answers 503). After a failure this isolate asks the hub for that key again
 * only HUB_RETRY_MS later, so a flood during an outage does not pile onto a struggling hub.
 */
import { untilAborted } from "../hub/deadline";
import { log } from "../shared/log";
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
  /**
   * Where this request got it: this isolate's memory, the location's cache, the hub, or "stale": an
   * expired answer standing in while another request refreshes it or while the hub fails.
   */
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

/** Whole seconds since the hub gave the answer (the HTTP `Age` of a stale one). */
export function ageSeconds(answer: CachedAnswer, nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - answer.storedAtMs) / 1000));
}

const isFresh = (answer: CachedAnswer, nowMs: number) => nowMs < answer.storedAtMs + answer.ttlS * 1000;

/** An expired answer may stand in for a failing hub until `staleLimitS` past its TTL. */
const mayStandIn = (
  answer: CachedAnswer | null | undefined,
  nowMs: number,
  staleLimitS: number,
): answer is CachedAnswer => !!answer && nowMs < answer.storedAtMs + (answer.ttlS + staleLimitS) * 1000;

/** How long past its TTL an answer may stand in for a failing hub, unless the caller says otherwise. */
export const STALE_LIMIT_S = 3600;
/** The longest wait for the hub; past it the hub counts as failed for this request. */
export const HUB_TIMEOUT_MS = 5000;
/** After the hub failed for a key, this isolate waits this long before asking it again for that key. */
export const HUB_RETRY_MS = 1000;

/** How long an expired value may stand in while one request of this isolate fetches its successor. */
export const REFRESH_GRACE_MS = 2000;
const WAIT_STEP_MS = 5;
/** The most key and body bytes this isolate keeps in memory; the oldest keys go first beyond it. */
export const MEMORY_BUDGET_BYTES = 8 * 1024 * 1024;

const HEADER_STATUS = "X-Answer-Status";
const HEADER_STORED_AT = "X-Stored-At";
const HEADER_TTL = "X-Answer-Ttl";

interface Slot {
  answer: CachedAnswer | null;
  /** The request of this isolate refreshing this key now, if any. */
  refreshing: { sinceMs: number; token: number } | null;
  /** When the hub last failed for this key; cleared by its next answer. */
  failedAtMs: number | null;
}

export interface EdgeCacheDeps {
  /** The location's cache; null where there is none. */
  cache: () => Cache | null;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** HUB_TIMEOUT_MS unless a test wants less. */
  hubTimeoutMs?: number;
}

export class EdgeCache {
  private readonly slots = new Map<string, Slot>();
  private bytes = 0;
  private tokens = 0;

  constructor(private readonly deps: EdgeCacheDeps) {}

  /**
   * The answer for `key`: fresh from memory or the location's cache, else from `load` (the hub),
   * then kept for `ttlS(answer)` seconds in both. While the hub fails, the last answer stands in
   * (source "stale") for up to `staleLimitS` past its TTL; null when there is none.
   */
  async get(
    key: string,
    load: () => Promise<Answer>,
    ttlS: (answer: Answer) => number,
    waitUntil: (work: Promise<unknown>) => void,
    staleLimitS = STALE_LIMIT_S,
  ): Promise<CachedAnswer | null> {
    const now = this.deps.now();
    const slot = this.slots.get(key);
    if (slot?.answer && isFresh(slot.answer, now)) return { ...slot.answer, source: "memory" };
    if (slot?.refreshing && now - slot.refreshing.sinceMs < REFRESH_GRACE_MS) {
      if (mayStandIn(slot.answer, now, staleLimitS)) return { ...slot.answer, source: "stale" };
      const awaited = await this.awaitFirst(key, slot.refreshing.sinceMs + REFRESH_GRACE_MS);
      if (awaited) return { ...awaited, source: "memory" };
    }
    const failing = this.slots.get(key);
    if (failing?.failedAtMs != null && this.deps.now() - failing.failedAtMs < HUB_RETRY_MS) {
      // What the failed call found to stand in (perhaps from the Cache API) is in the slot now.
      const current = failing.answer;
      return mayStandIn(current, this.deps.now(), staleLimitS) ? { ...current, source: "stale" } : null;
    }
    // Claimed before the first await: requests arriving meanwhile take the branch above.
    const claim = this.claim(key, this.deps.now());
    try {
      const cached = await this.fromCache(key);
      if (cached && isFresh(cached, this.deps.now())) {
        this.remember(key, cached);
        return cached;
      }
      const fresh = await this.fromHub(key, load, ttlS, staleLimitS, waitUntil);
      if (fresh) {
        this.remember(key, fresh);
        return fresh;
      }
      const nowMs = this.deps.now();
      const candidates = [this.slots.get(key)?.answer, cached];
      const fallback = newest(candidates.filter((a) => mayStandIn(a, nowMs, staleLimitS)));
      this.failed(key, nowMs, fallback);
      return fallback && { ...fallback, source: "stale" };
    } finally {
      this.release(key, claim);
    }
  }

  /** Keys held in this isolate's memory (for tests and reports). */
  get size(): number {
    return this.slots.size;
  }

  /**
   * A key being fetched for the first time by another request here: its answer, once there; null
   * at the deadline or as soon as that fetch failed.
   */
  private async awaitFirst(key: string, deadlineMs: number): Promise<CachedAnswer | null> {
    while (this.deps.now() < deadlineMs) {
      await this.deps.sleep(WAIT_STEP_MS);
      const slot = this.slots.get(key);
      if (slot?.answer) return slot.answer;
      if (!slot?.refreshing) return null; // that fetch failed
    }
    return null;
  }

  private claim(key: string, now: number): number {
    const refreshing = { sinceMs: now, token: ++this.tokens };
    const slot = this.slots.get(key);
    if (slot) slot.refreshing = refreshing;
    else this.put(key, { answer: null, refreshing, failedAtMs: null });
    return refreshing.token;
  }

  private release(key: string, token: number): void {
    const slot = this.slots.get(key);
    if (slot?.refreshing?.token !== token) return;
    slot.refreshing = null;
    if (!slot.answer && slot.failedAtMs === null) this.drop(key);
  }

  /** An answer the hub or the location's cache gave now: the hub is not failing. */
  private remember(key: string, answer: CachedAnswer): void {
    // Re-inserted, so the Map's order is the order of last refresh: eviction takes the oldest.
    this.put(key, { answer, refreshing: this.slots.get(key)?.refreshing ?? null, failedAtMs: null });
  }

  /** Kept even for a key with nothing to stand in: its retry waits HUB_RETRY_MS like any other. */
  private failed(key: string, nowMs: number, standIn: CachedAnswer | null): void {
    const previous = this.slots.get(key);
    this.put(key, {
      answer: standIn ?? previous?.answer ?? null,
      refreshing: previous?.refreshing ?? null,
      failedAtMs: nowMs,
    });
  }

  /** Sets the slot last in the Map's order and keeps the memory budget, the oldest keys going first. */
  private put(key: string, slot: Slot): void {
    this.drop(key);
    this.slots.set(key, slot);
    this.bytes += slotBytes(key, slot);
    for (const [oldKey] of this.slots) {
      if (this.bytes <= MEMORY_BUDGET_BYTES || oldKey === key) break;
      this.drop(oldKey);
    }
  }

  private drop(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    this.bytes -= slotBytes(key, slot);
    this.slots.delete(key);
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

  /** The hub's answer, also put in the location's cache; null when the hub failed or timed out. */
  private async fromHub(
    key: string,
    load: () => Promise<Answer>,
    ttlS: (answer: Answer) => number,
    staleLimitS: number,
    waitUntil: (work: Promise<unknown>) => void,
  ): Promise<CachedAnswer | null> {
    let loaded: Answer;
    try {
      loaded = await untilAborted(load(), AbortSignal.timeout(this.deps.hubTimeoutMs ?? HUB_TIMEOUT_MS));
    } catch (error) {
      log("edge_hub_failed", { key, error: String(error) });
      return null;
    }
    const { body, status } = loaded;
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
      // Stored as a 200 whatever the answer's status: a cache may refuse to keep a 503. Kept past
      // its TTL to stand in for a failing hub; fromCache's caller reads freshness from the stored time.
      const stored = new Response(body, {
        headers: {
          "Content-Type": "application/json; charset=utf-8",
          "Cache-Control": `max-age=${answer.ttlS + staleLimitS}`,
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

const slotBytes = (key: string, slot: Slot) => key.length + (slot.answer?.body.length ?? 0);

function newest(answers: (CachedAnswer | null | undefined)[]): CachedAnswer | null {
  let best: CachedAnswer | null = null;
  for (const a of answers) if (a && (!best || a.storedAtMs > best.storedAtMs)) best = a;
  return best;
}

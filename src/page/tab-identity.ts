/**
 * Each tab of /home is a client of its own: its client_id and resume point live in the tab's
 * sessionStorage, which a reload keeps. But a tab opened from another (window.open, a link into
 * a new window) or duplicated starts with a copy of its opener's sessionStorage, so two live tabs
 * could share one id and one resume point. Before connecting, a tab therefore claims the id it
 * found:
 *
 * - It holds a Web Lock named after its id for as long as it lives. Free lock: no other tab has
 *   the id (the common case, a reload or a restored tab): keep it at once.
 * - Held lock: another tab has it, or this tab's previous document is still letting go of it
 *   during a reload. The tab asks on a BroadcastChannel; a live holder answers at once, and the
 *   tab takes a new id. A lock freed within `waitMs` was the previous document's: keep the id.
 *   Neither: a live holder that does not answer; take a new id.
 * - Without Web Locks (not a secure context) the channel alone decides: an answer within `waitMs`
 *   means taken, silence means free. Without either, the tab keeps what it found.
 *
 * The browser's side (navigator.locks, BroadcastChannel, timers) is passed in, so that this is
 * tested with tabs in memory.
 */

/** The part of navigator.locks (Web Locks API) used here. */
export interface TabLocks {
  request(
    name: string,
    options: { ifAvailable?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => unknown,
  ): Promise<unknown>;
}

/** A BroadcastChannel between the page's tabs: a message reaches the others, never the sender. */
export interface TabChannel {
  post(message: unknown): void;
  /** Returns the function that stops listening. */
  listen(listener: (message: unknown) => void): () => void;
}

export interface TabIdentityDeps {
  locks: TabLocks | null;
  channel: TabChannel | null;
  newClientId(): string;
  sleep(ms: number): Promise<void>;
  /** How long a held id may take to be answered for or let go of. */
  waitMs: number;
}

export interface TabIdentity {
  clientId: string;
  /** false: the tab had no id, or another live tab has it; `clientId` is a new one. */
  kept: boolean;
}

interface TabMessage {
  type: "claim" | "taken";
  clientId: string;
}

const lockName = (clientId: string) => `btcfeed.client_id.${clientId}`;

function isMessage(message: unknown, type: TabMessage["type"], clientId: string): boolean {
  const m = message as Partial<TabMessage> | null;
  return typeof m === "object" && m !== null && m.type === type && m.clientId === clientId;
}

const forever = <T>() => new Promise<T>(() => {});

/**
 * Resolves true once the lock is granted, and holds it as long as this document lives; false when
 * not available, aborted, or refused (an opaque origin): the claim goes on without it.
 */
function lock(locks: TabLocks, clientId: string, options: { ifAvailable?: true; signal?: AbortSignal }) {
  return new Promise<boolean>((resolve) => {
    const request = locks.request(lockName(clientId), options, (granted) => {
      // Granted after the claim gave up on it (too late to abort): let go at once.
      const wanted = granted !== null && granted !== undefined && !options.signal?.aborted;
      resolve(wanted);
      return wanted ? forever() : undefined;
    });
    request.catch(() => resolve(false));
  });
}

/** Answers the other tabs' claims of `clientId` for as long as this document lives. */
function answerFor(channel: TabChannel | null, clientId: string): void {
  channel?.listen((message) => {
    if (isMessage(message, "claim", clientId)) channel.post({ type: "taken", clientId } satisfies TabMessage);
  });
}

/** Whether no other live tab has `clientId`; if so and Web Locks exist, this tab now holds its lock. */
async function claim(clientId: string, deps: TabIdentityDeps): Promise<boolean> {
  const { locks, channel } = deps;
  if (locks && (await lock(locks, clientId, { ifAvailable: true }))) return true;
  if (!locks && !channel) return true;
  const abort = new AbortController();
  let stopListening = () => {};
  const verdicts: Promise<boolean>[] = [
    // Out of time: a lock still held is a live tab's; silence on the channel alone means nobody's.
    deps.sleep(deps.waitMs).then(() => locks === null),
  ];
  if (locks) {
    verdicts.push(lock(locks, clientId, { signal: abort.signal }).then((granted) => granted || forever<boolean>()));
  }
  if (channel) {
    verdicts.push(
      new Promise<boolean>((resolve) => {
        stopListening = channel.listen((message) => {
          if (isMessage(message, "taken", clientId)) resolve(false);
        });
        channel.post({ type: "claim", clientId } satisfies TabMessage);
      }),
    );
  }
  const free = await Promise.race(verdicts);
  abort.abort();
  stopListening();
  return free;
}

/** The client_id this tab connects as: `stored` unless another live tab has it, else a new one. */
export async function claimTabIdentity(stored: string | null, deps: TabIdentityDeps): Promise<TabIdentity> {
  if (stored !== null && (await claim(stored, deps))) {
    answerFor(deps.channel, stored);
    return { clientId: stored, kept: true };
  }
  const clientId = deps.newClientId();
  // A new random id: nobody else has it; the lock and the answers keep it so for later copies.
  if (deps.locks) await lock(deps.locks, clientId, { ifAvailable: true });
  answerFor(deps.channel, clientId);
  return { clientId, kept: false };
}

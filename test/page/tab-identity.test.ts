import { describe, expect, it } from "vitest";
import { claimTabIdentity, type TabChannel, type TabIdentityDeps, type TabLocks } from "../../src/page/tab-identity";

// ---- a browser's worth of tabs: Web Locks and a BroadcastChannel, in memory --------------

interface Waiter {
  tab: FakeTab;
  grant: () => void;
}

/** The Web Locks the tabs of one origin share: exclusive locks, granted in request order. */
class LockWorld {
  readonly holders = new Map<string, FakeTab>();
  private readonly queues = new Map<string, Waiter[]>();

  request(
    tab: FakeTab,
    name: string,
    options: { ifAvailable?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => unknown,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const run = () => {
        this.holders.set(name, tab);
        tab.locks.add(name);
        Promise.resolve(callback({ name })).then((value) => {
          this.release(tab, name);
          resolve(value);
        }, reject);
      };
      if (!this.holders.has(name)) return run();
      if (options.ifAvailable) return resolve(callback(null));
      const waiter: Waiter = { tab, grant: run };
      const queue = this.queues.get(name) ?? [];
      queue.push(waiter);
      this.queues.set(name, queue);
      options.signal?.addEventListener("abort", () => {
        const q = this.queues.get(name) ?? [];
        if (!q.includes(waiter)) return;
        q.splice(q.indexOf(waiter), 1);
        reject(new DOMException("aborted", "AbortError"));
      });
    });
  }

  release(tab: FakeTab, name: string): void {
    if (this.holders.get(name) !== tab) return;
    this.holders.delete(name);
    tab.locks.delete(name);
    this.queues.get(name)?.shift()?.grant();
  }
}

/** The tabs' BroadcastChannel: a message reaches every other open tab, later (a task, not at once). */
class ChannelWorld {
  readonly tabs = new Set<FakeTab>();

  post(from: FakeTab, message: unknown): void {
    for (const tab of this.tabs) {
      if (tab === from || !tab.open) continue;
      setTimeout(() => {
        if (tab.open && tab.answers) for (const listener of tab.listeners) listener(structuredClone(message));
      }, 0);
    }
  }
}

class FakeTab {
  open = true;
  /** A tab frozen or too busy to answer messages (it still holds its locks). */
  answers = true;
  readonly locks = new Set<string>();
  readonly listeners = new Set<(message: unknown) => void>();

  constructor(
    private readonly lockWorld: LockWorld | null,
    private readonly channelWorld: ChannelWorld | null,
  ) {
    channelWorld?.tabs.add(this);
  }

  get webLocks(): TabLocks | null {
    const world = this.lockWorld;
    return world && { request: (name, options, callback) => world.request(this, name, options, callback) };
  }

  get channel(): TabChannel | null {
    const world = this.channelWorld;
    return (
      world && {
        post: (message) => world.post(this, message),
        listen: (listener) => {
          this.listeners.add(listener);
          return () => this.listeners.delete(listener);
        },
      }
    );
  }

  /** The tab (or its document) goes: its locks are released, its channel closed. */
  close(): void {
    this.open = false;
    this.listeners.clear();
    for (const name of [...this.locks]) this.lockWorld?.release(this, name);
  }
}

function browser(options: { locks?: boolean; channel?: boolean } = {}) {
  const lockWorld = options.locks === false ? null : new LockWorld();
  const channelWorld = options.channel === false ? null : new ChannelWorld();
  let n = 0;
  return {
    lockWorld,
    tab: () => new FakeTab(lockWorld, channelWorld),
    /** Claims `stored` in `tab`; `sleep` stands for the wait: never over, over at once, or by hand. */
    claim(tab: FakeTab, stored: string | null, sleep: TabIdentityDeps["sleep"] = never) {
      return claimTabIdentity(stored, {
        locks: tab.webLocks,
        channel: tab.channel,
        newClientId: () => `fresh-${++n}`,
        sleep,
        waitMs: 500,
      });
    },
  };
}

const never = () => new Promise<void>(() => {});
const atOnce = () => Promise.resolve();
const flush = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("page: each tab its own client id", () => {
  it("a first tab makes up an id of its own and holds it", async () => {
    const b = browser();
    const tab = b.tab();
    expect(await b.claim(tab, null)).toEqual({ clientId: "fresh-1", kept: false });
    expect(b.lockWorld!.holders.get("btcfeed.client_id.fresh-1")).toBe(tab);
  });

  it("a reloaded tab keeps its id at once when no other tab holds it", async () => {
    const b = browser();
    const tab = b.tab();
    expect(await b.claim(tab, "mine", never)).toEqual({ clientId: "mine", kept: true });
    expect(b.lockWorld!.holders.get("btcfeed.client_id.mine")).toBe(tab);
  });

  it("a tab that starts with a copy of a live tab's id gets its own, on the holder's answer", async () => {
    const b = browser();
    const opener = b.tab();
    await b.claim(opener, "shared");
    // `never`: only the opener's answer can settle the claim.
    const copy = await b.claim(b.tab(), "shared", never);
    expect(copy).toEqual({ clientId: "fresh-1", kept: false });
    expect(b.lockWorld!.holders.get("btcfeed.client_id.shared")).toBe(opener);
  });

  it("a copy whose holder does not answer gets its own id after the wait (the holder keeps the lock)", async () => {
    const b = browser();
    const opener = b.tab();
    await b.claim(opener, "shared");
    opener.answers = false;
    expect(await b.claim(b.tab(), "shared", atOnce)).toEqual({ clientId: "fresh-1", kept: false });
  });

  it("a reload keeps the id when the previous document lets go of it during the wait", async () => {
    const b = browser();
    const before = b.tab();
    await b.claim(before, "mine");
    before.answers = false; // unloading: it no longer runs scripts, its lock is not released yet
    let waitOver = () => {};
    const after = b.tab();
    const claim = b.claim(after, "mine", () => new Promise<void>((resolve) => (waitOver = resolve)));
    await flush();
    before.close();
    expect(await claim).toEqual({ clientId: "mine", kept: true });
    waitOver();
    expect(b.lockWorld!.holders.get("btcfeed.client_id.mine")).toBe(after);
  });

  it("a tab that gave up on a copied id does not take its lock later", async () => {
    const b = browser();
    const opener = b.tab();
    await b.claim(opener, "shared");
    const copy = b.tab();
    expect((await b.claim(copy, "shared", never)).kept).toBe(false);
    opener.close();
    await flush();
    expect(b.lockWorld!.holders.has("btcfeed.client_id.shared")).toBe(false);
  });

  it("the new id is answered for: a copy of the copy gets yet another", async () => {
    const b = browser();
    await b.claim(b.tab(), "shared");
    const { clientId } = await b.claim(b.tab(), "shared", never);
    expect(await b.claim(b.tab(), clientId, never)).toEqual({ clientId: "fresh-2", kept: false });
  });

  it("two tabs restored with one id at once: one keeps it, the other gets its own", async () => {
    const b = browser();
    const results = await Promise.all([b.claim(b.tab(), "twin", atOnce), b.claim(b.tab(), "twin", atOnce)]);
    expect(results.map((r) => r.kept).sort()).toEqual([false, true]);
    expect(new Set(results.map((r) => r.clientId)).size).toBe(2);
  });

  it("a Web Locks that refuses every request (an opaque origin) costs the resume, never the page", async () => {
    const refusing: TabLocks = { request: () => Promise.reject(new DOMException("no", "SecurityError")) };
    const claim = (stored: string | null) =>
      claimTabIdentity(stored, {
        locks: refusing,
        channel: null,
        newClientId: () => "fresh",
        sleep: atOnce,
        waitMs: 1,
      });
    expect(await claim("mine")).toEqual({ clientId: "fresh", kept: false });
    expect(await claim(null)).toEqual({ clientId: "fresh", kept: false });
  });

  it("without Web Locks (not a secure context): an answer means taken, silence means free", async () => {
    const b = browser({ locks: false });
    expect(await b.claim(b.tab(), "mine", atOnce)).toEqual({ clientId: "mine", kept: true });
    expect(await b.claim(b.tab(), "mine", never)).toEqual({ clientId: "fresh-1", kept: false });
  });

  it("without Web Locks or BroadcastChannel it keeps what it has", async () => {
    const b = browser({ locks: false, channel: false });
    expect(await b.claim(b.tab(), "mine", never)).toEqual({ clientId: "mine", kept: true });
    expect(await b.claim(b.tab(), null, never)).toEqual({ clientId: "fresh-1", kept: false });
  });
});

/**
 * Model-based fault test of the resume promise: random sequences of connects (plain, last_seq,
 * start_timedate, racing a tick), closes, restarts (eviction with the sockets closed: what a deploy
 * does), ticks, a hub call that fails, alarms and expiry, against the real objects. After every
 * command the client is checked the way a client library would check it:
 * - every seq published since the promise began arrived or lies in a gap frame;
 * - no seq arrives twice unless the repeat is marked replayed;
 * - seq increases within a connection.
 * After the run: a session with no socket has an alarm, and a purged session is off the hub's list.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ClientSession } from "../../src/session/ClientSession";
import type { SessionRecord } from "../../src/session/session-state";
import { connect, type FeedClient, type Frame } from "../support/feed";
import { hub, publishTick, sessionStub, sleep } from "../support/hub";
import { closeAndSettle, expire } from "../support/session";

type Price = Extract<Frame, { type: "price" }>;

/** The client side of one run: what it was sent, and what the feed promised it. */
class Harness {
  client: FeedClient | null = null;
  private connection = 0;
  /** Every price frame, with the connection it came on. */
  readonly received: (Price & { connection: number })[] = [];
  readonly gaps: { from: number; to: number }[] = [];
  readonly published: number[] = [];
  /** Completeness is promised from this seq on (reset when a purged session starts afresh). */
  promiseFrom: number | null = null;
  failHub = false;
  /** Index in `received` where the current session's knowledge of the client starts. */
  private freshFrom = 0;

  constructor(readonly clientId: string) {}

  get lastSeen(): number | null {
    return this.received.reduce<number | null>((max, p) => (max === null || p.seq > max ? p.seq : max), null);
  }

  async tick(): Promise<void> {
    this.published.push((await publishTick()).seq);
  }

  async connect(kind: "plain" | "last_seq" | "start_timedate", racingTick = false): Promise<void> {
    const params = new URLSearchParams({ client_id: this.clientId, currencies: "USD" });
    const seen = this.lastSeen;
    if (kind === "last_seq" && seen !== null) params.set("last_seq", String(seen));
    if (kind === "start_timedate" && seen !== null) {
      const ts = this.received.find((p) => p.seq === seen)!.ts;
      params.set("start_timedate", String(ts));
    }
    const [client] = await Promise.all([connect(params.toString()), racingTick ? this.tick() : Promise.resolve()]);
    const connection = ++this.connection;
    this.client = client;
    // Frames that came before this listener are collected too: the client's own listener keeps them all.
    client.ws.addEventListener("message", () => this.collect(client, connection));
    this.collect(client, connection);
    // Settled: welcome, then the replay's end or the snapshot (or a close when the hub failed).
    const deadline = Date.now() + 3000;
    while (!client.closed && !client.frames.some((f) => f.type === "replay_end" || f.type === "price")) {
      if (Date.now() > deadline) throw new Error(`connect never settled: ${JSON.stringify(client.frames)}`);
      await sleep(5);
    }
    const welcome = client.frames[0];
    if (welcome?.type === "welcome" && !welcome.resumed && (kind === "plain" || seen === null)) {
      // A new (or purged) session knows nothing of the client: its promise starts with this socket.
      const first = client.prices()[0];
      this.promiseFrom = first ? first.seq : null;
      this.freshFrom = this.received.findIndex((p) => p.connection === connection);
    }
    if (client.closed) this.client = null;
  }

  private collected = new Map<FeedClient, number>();

  private collect(client: FeedClient, connection: number): void {
    const start = this.collected.get(client) ?? 0;
    for (const frame of client.frames.slice(start)) {
      if (frame.type === "price") this.received.push({ ...frame, connection });
      if (frame.type === "gap") this.gaps.push({ from: frame.from_seq, to: frame.to_seq });
    }
    this.collected.set(client, client.frames.length);
  }

  async close(): Promise<void> {
    if (!this.client) return;
    await closeAndSettle(this.client);
    this.client = null;
  }

  async restart(): Promise<void> {
    const stub = sessionStub(this.clientId);
    await runInDurableObject(stub, () => {}); // only a running object can be evicted
    await evictDurableObject(stub, { webSockets: "close" });
    if (this.client) await this.client.waitForClose();
    this.client = null;
  }

  /** Waits until a connected client has the latest tick, then checks the promises. */
  async check(): Promise<void> {
    const latest = this.published.at(-1);
    if (this.client && latest !== undefined && this.promiseFrom !== null) {
      await this.client.waitForSeq(latest, 3000).catch(() => {
        if (!this.client?.closed)
          throw new Error(`tick ${latest} never arrived: ${JSON.stringify(this.client?.frames)}`);
      });
      if (this.client?.closed) this.client = null;
    }
    const got = new Set(this.received.map((p) => p.seq));
    const inGap = (seq: number) => this.gaps.some((g) => g.from <= seq && seq <= g.to);
    if (this.client && this.promiseFrom !== null) {
      const missing = this.published.filter(
        (s) => s >= this.promiseFrom! && s <= (this.lastSeen ?? 0) && !got.has(s) && !inGap(s),
      );
      expect(missing, "every seq arrived or lies in a gap").toEqual([]);
    }
    const firstTime = new Set<number>();
    for (const p of this.received.slice(Math.max(0, this.freshFrom))) {
      if (firstTime.has(p.seq)) expect(p, `seq ${p.seq} again, not marked replayed`).toMatchObject({ replayed: true });
      firstTime.add(p.seq);
    }
    for (let connection = 1; connection <= this.connection; connection++) {
      const seqs = this.received.filter((p) => p.connection === connection).map((p) => p.seq);
      expect(seqs, "seq increases within a connection").toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
  }
}

interface Model {
  connected: boolean;
  known: boolean;
}

const command = (
  name: string,
  when: (m: Model) => boolean,
  act: (m: Model, h: Harness) => Promise<void>,
): fc.AsyncCommand<Model, Harness> => ({
  check: when,
  run: async (m, h) => {
    await act(m, h);
    m.connected = h.client !== null;
    await h.check();
  },
  toString: () => name,
});

const commands = [
  fc.constantFrom("plain", "last_seq", "start_timedate").map((kind) =>
    command(
      `connect ${kind}`,
      (m) => !m.connected,
      async (m, h) => {
        await h.connect(kind as "plain" | "last_seq" | "start_timedate");
        m.known = true;
      },
    ),
  ),
  fc.constant(
    command(
      "connect racing a tick",
      (m) => !m.connected,
      (m, h) =>
        h.connect("plain", true).then(() => {
          m.known = true;
        }),
    ),
  ),
  fc.constant(
    command(
      "tick",
      () => true,
      (_m, h) => h.tick(),
    ),
  ),
  fc.constant(
    command(
      "close",
      (m) => m.connected,
      (_m, h) => h.close(),
    ),
  ),
  fc.constant(
    command(
      "restart",
      (m) => m.known,
      (_m, h) => h.restart(),
    ),
  ),
  fc.constant(
    command(
      "hub call fails",
      () => true,
      async (_m, h) => {
        h.failHub = true;
      },
    ),
  ),
  fc.constant(
    command(
      "alarm",
      (m) => m.known,
      (_m, h) => runDurableObjectAlarm(sessionStub(h.clientId)).then(() => undefined),
    ),
  ),
  fc.constant(
    command(
      "expire",
      (m) => m.known && !m.connected,
      (_m, h) => expire(h.clientId).then(() => undefined),
    ),
  ),
];

afterEach(() => vi.restoreAllMocks());

describe("the resume promise, model-based", () => {
  it("holds across random connects, closes, restarts, ticks, hub failures and alarms", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 20 }), async (cmds) => {
        const harness = new Harness(`model-${++run}-${Math.random().toString(36).slice(2, 8)}`);
        // A hub call armed to fail throws once, in whichever connect calls the hub next (its
        // subscribe or its replay). Injected on the session's side of the call: in the pool, an
        // object whose RPC call was rejected cannot be evicted afterwards (it keeps a reference).
        const session = ClientSession.prototype as unknown as Record<
          "join" | "replayPage",
          (...args: unknown[]) => Promise<unknown>
        >;
        const failOnce = (name: "join" | "replayPage") => {
          const real = session[name]!;
          return vi.spyOn(session, name).mockImplementation(function (this: unknown, ...args: unknown[]) {
            if (harness.failHub) {
              harness.failHub = false;
              return Promise.reject(new Error(`hub ${name} failed (injected)`));
            }
            return real.apply(this, args);
          });
        };
        const spies = [failOnce("join"), failOnce("replayPage")];
        try {
          await harness.tick();
          await fc.asyncModelRun(() => ({ model: { connected: false, known: false }, real: harness }), cmds);
          await quiesce(harness);
        } finally {
          for (const spy of spies) spy.mockRestore();
          harness.client?.close();
        }
      }),
      { numRuns: 60, endOnFailure: true },
    );
  }, 180_000);
});

/** After the run: no socketless session without an alarm, and a purged session is off the hub's list. */
async function quiesce(h: Harness): Promise<void> {
  await h.close();
  const stub = sessionStub(h.clientId);
  const stored = await runInDurableObject(stub, (_i, state) => state.storage.kv.get<SessionRecord>("session") ?? null);
  if (stored) {
    expect(
      await runInDurableObject(stub, (_i, state) => state.storage.getAlarm()),
      "a socketless session has an alarm",
    ).not.toBeNull();
    await h.tick();
    await expire(h.clientId);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.kv.get("session") ?? null)).toBeNull();
  }
  const listed = () =>
    runInDurableObject(
      hub(),
      (_i, state) =>
        state.storage.sql
          .exec<{ n: number }>("SELECT COUNT(*) AS n FROM subscribers WHERE client_id = ?", h.clientId)
          .one().n,
    );
  // The hub learns of a purge from the unsubscribe, or at the latest from its next delivery.
  if ((await listed()) > 0) await h.tick();
  expect(await listed(), "a purged session is off the hub's list").toBe(0);
}

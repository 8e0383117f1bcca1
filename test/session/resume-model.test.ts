/**
 * Model-based fault test of the resume promise: random sequences of commands against the real objects,
 * for three clients on different currency sets (so each skips seqs that do not concern it), with up to
 * two sockets each, behind a fan-out tree that grows while they run. Commands: connects (plain,
 * last_seq, start_timedate, racing a tick, a second tab), closes (one racing a tick), restarts of a
 * session, a deploy (every object restarted; its clients back at once by last_seq, or later), ticks
 * moving any currencies, a shard delivery that throws, a session that throws after handling a tick, a
 * session that hangs past its shard's deadline, a shard that loses its storage, alarms, expiry, and a
 * split forced by newcomers. After every command
 * each client is checked the way a client library would check it:
 * - every seq that concerns its currencies, published since the promise began, arrived or lies in a gap;
 * - on the chain of connections that resume one another, no seq arrives twice unless marked replayed;
 * - seq increases within a connection, and a second tab gets every tick from its first price on.
 * After the run: a session with no socket has an alarm, and no shard lists a purged session.
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Currency } from "../../src/protocol";
import { StubCache } from "../../src/relay/stub-cache";
import { isOnPath } from "../../src/relay/topology";
import { ClientSession } from "../../src/session/ClientSession";
import { connect, type FeedClient, type Frame } from "../support/feed";
import { hub, recordOf, registrations, sessionStub, shard, sleep, wipe } from "../support/hub";
import { closeAndSettle, expire } from "../support/session";
import { decodeEvent } from "../../src/relay/event-wire";

type Price = Extract<Frame, { type: "price" }>;
type Kind = "plain" | "last_seq" | "start_timedate";

const CURRENCY_SETS: Currency[][] = [["USD"], ["EUR"], ["USD", "GBP"]];
const MOVABLE: Currency[] = ["USD", "EUR", "GBP"];

/** The feed's side of one run: the ticks published, and the faults armed for the next calls. */
class World {
  readonly published: { seq: number; changed: Currency[] }[] = [];
  private prices: Record<string, number> = { USD: 50_000, EUR: 46_000, GBP: 40_000 };
  failShardOnce = false;
  throwAfterReceive: string | null = null;
  hang: string | null = null;

  async tick(moved: Currency[]): Promise<void> {
    const fresh: Partial<Record<Currency, number>> = {};
    for (const c of moved) {
      this.prices[c] = Math.round((this.prices[c]! + 1.25) * 100) / 100;
      fresh[c] = this.prices[c];
    }
    const tick = await hub().publish(fresh, ["test"]);
    if (tick) this.published.push({ seq: tick.seq, changed: tick.changed });
  }

  /**
   * Learns every tick the hub holds that this run did not publish itself: the hub's own poll (armed
   * again when a deploy restarts it) may publish one too.
   */
  async sync(): Promise<void> {
    const known = new Set(this.published.map((t) => t.seq));
    const after = this.published[0]?.seq ?? 0;
    for (const tick of (await hub().copyPage(after, 1000)).ticks) {
      if (!known.has(tick.seq)) this.published.push({ seq: tick.seq, changed: tick.changed });
    }
    this.published.sort((a, b) => a.seq - b.seq);
  }

  concerning(currencies: readonly Currency[]): number[] {
    return this.published.filter((t) => t.changed.some((c) => currencies.includes(c))).map((t) => t.seq);
  }
}

interface Connection {
  client: FeedClient;
  id: number;
  /** Opened while no other socket of the client was live: it resumes the client's chain. */
  resumes: boolean;
  /** The first price it got: a second tab's promise starts there. */
  firstSeq: number | null;
}

/** One client: its sockets, what they were sent, and what the feed promised it. */
class ClientHarness {
  readonly sockets: Connection[] = [];
  private connections = 0;
  readonly received: (Price & { connection: number; resumes: boolean })[] = [];
  readonly gaps: { from: number; to: number }[] = [];
  /** Completeness is promised from this seq on (reset when a purged session starts afresh). */
  promiseFrom: number | null = null;
  /** Index in `received` where the current session's knowledge of the client starts. */
  private freshFrom = 0;
  known = false;

  constructor(
    readonly clientId: string,
    readonly currencies: Currency[],
    private readonly world: World,
  ) {}

  get lastSeen(): number | null {
    let max: number | null = null;
    for (const p of this.received) if (p.resumes && (max === null || p.seq > max)) max = p.seq;
    return max;
  }

  async connect(kind: Kind, racingTick = false): Promise<void> {
    const params = new URLSearchParams({ client_id: this.clientId, currencies: this.currencies.join(",") });
    const resumes = this.sockets.length === 0;
    const seen = this.lastSeen;
    if (resumes && kind === "last_seq" && seen !== null) params.set("last_seq", String(seen));
    if (resumes && kind === "start_timedate" && seen !== null) {
      params.set("start_timedate", String(this.received.find((p) => p.seq === seen)!.ts));
    }
    const [client] = await Promise.all([
      connect(params.toString()),
      racingTick ? this.world.tick(["USD", "EUR"]) : Promise.resolve(),
    ]);
    const connection: Connection = { client, id: ++this.connections, resumes, firstSeq: null };
    client.ws.addEventListener("message", () => this.collect(connection));
    this.collect(connection);
    // Settled: welcome, then the replay's end or the snapshot (or a close when a shard failed).
    const deadline = Date.now() + 3000;
    while (!client.closed && !client.frames.some((f) => f.type === "replay_end" || f.type === "price")) {
      if (Date.now() > deadline) throw new Error(`connect never settled: ${JSON.stringify(client.frames)}`);
      await sleep(5);
    }
    this.known = true;
    const welcome = client.frames[0];
    if (resumes && welcome?.type === "welcome" && !welcome.resumed && (kind === "plain" || seen === null)) {
      // A new (or purged) session knows nothing of the client: its promise starts with this socket.
      this.promiseFrom = client.prices()[0]?.seq ?? null;
      this.freshFrom = this.received.findIndex((p) => p.connection === connection.id);
    }
    if (!client.closed) this.sockets.push(connection);
  }

  private readonly collected = new Map<FeedClient, number>();

  private collect(connection: Connection): void {
    const start = this.collected.get(connection.client) ?? 0;
    for (const frame of connection.client.frames.slice(start)) {
      if (frame.type === "price") {
        connection.firstSeq ??= frame.seq;
        this.received.push({ ...frame, connection: connection.id, resumes: connection.resumes });
      }
      if (frame.type === "gap") this.gaps.push({ from: frame.from_seq, to: frame.to_seq });
    }
    this.collected.set(connection.client, connection.client.frames.length);
  }

  async close(racingTick = false): Promise<void> {
    const last = this.sockets.pop();
    if (!last) return;
    if (racingTick) {
      last.client.close();
      await this.world.tick(["USD", "EUR", "GBP"]);
      await last.client.waitForClose();
      await sleep(30);
    } else {
      await closeAndSettle(last.client, this.sockets.length);
    }
  }

  /** The runtime dropped every socket of the client, without a close event. */
  socketsDropped(): Promise<void>[] {
    const waits = this.sockets.map((s) => s.client.waitForClose().then(() => undefined));
    this.sockets.length = 0;
    return waits;
  }

  /** Waits until every open socket has the latest tick that concerns it, then checks the promises. */
  async check(): Promise<void> {
    const concerned = this.world.concerning(this.currencies);
    const latest = concerned.at(-1);
    for (const socket of [...this.sockets]) {
      // A socket that began at a later tick (its snapshot) has nothing older to wait for.
      if (latest === undefined || socket.firstSeq === null || latest < socket.firstSeq) continue;
      await socket.client.waitForSeq(latest, 3000).catch(() => {
        if (!socket.client.closed)
          throw new Error(`tick ${latest} never arrived: ${JSON.stringify(socket.client.frames)}`);
      });
      if (socket.client.closed) this.sockets.splice(this.sockets.indexOf(socket), 1);
    }
    const got = new Set(this.received.map((p) => p.seq));
    const inGap = (seq: number) => this.gaps.some((g) => g.from <= seq && seq <= g.to);
    if (this.sockets.length > 0 && this.promiseFrom !== null) {
      const upTo = Math.max(...this.received.map((p) => p.seq));
      const missing = concerned.filter((s) => s >= this.promiseFrom! && s <= upTo && !got.has(s) && !inGap(s));
      expect(missing, `${this.clientId}: every seq arrived or lies in a gap`).toEqual([]);
    }
    const firstTime = new Set<number>();
    for (const p of this.received.slice(Math.max(0, this.freshFrom)).filter((r) => r.resumes)) {
      if (firstTime.has(p.seq)) expect(p, `seq ${p.seq} again, not marked replayed`).toMatchObject({ replayed: true });
      firstTime.add(p.seq);
    }
    for (let connection = 1; connection <= this.connections; connection++) {
      const seqs = this.received.filter((p) => p.connection === connection).map((p) => p.seq);
      expect(seqs, "seq increases within a connection").toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    for (const tab of this.sockets.filter((s) => !s.resumes && s.firstSeq !== null)) {
      const mine = new Set(this.received.filter((p) => p.connection === tab.id).map((p) => p.seq));
      const missing = concerned.filter((s) => s > tab.firstSeq! && !mine.has(s) && !inGap(s));
      expect(missing, `${this.clientId}: a second tab gets every tick from its first price on`).toEqual([]);
    }
  }
}

class Harness {
  readonly world = new World();
  readonly clients: ClientHarness[];

  constructor(run: string) {
    this.clients = CURRENCY_SETS.map((currencies, i) => new ClientHarness(`m${run}-${i}`, currencies, this.world));
  }

  /** One poll later (a beat, or nothing new), every client must have every tick that concerns it. */
  async check(): Promise<void> {
    await hub().publish({}, ["test"]);
    await this.world.sync();
    for (const client of this.clients) await client.check();
  }
}

/** Evicts an object, as a restart does. */
async function restartObject(stub: DurableObjectStub): Promise<void> {
  await runInDurableObject(stub, () => {}); // only a running object can be evicted
  await evictDurableObject(stub, { webSockets: "close" });
}

/**
 * The stub a sender gets, with the fault armed for it, if any: a delivery to a child shard that fails
 * before reaching it, or a session that handles a tick and then fails to answer.
 */
function withFault(world: World, name: string, stub: unknown): unknown {
  const isShard = /^[0-9a-f]{1,8}$/.test(name);
  if (isShard && world.failShardOnce) {
    world.failShardOnce = false;
    return { deliver: () => Promise.reject(new Error("shard delivery failed (injected)")) };
  }
  if (!isShard && world.throwAfterReceive === name) {
    world.throwAfterReceive = null;
    const session = stub as { receive: (event: unknown) => Promise<unknown> };
    return {
      receive: async (event: unknown) => {
        await session.receive(event);
        throw new Error("session answer lost after handling (injected)");
      },
    };
  }
  return stub;
}

/** The shards of the tree, root first. */
async function shardsOfTree(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (prefix: string): Promise<void> => {
    out.push(prefix);
    const layout = await runInDurableObject(shard(prefix), (_i, state) =>
      state.storage.kv.get<{ children: string[] }>("layout"),
    );
    for (const digit of layout?.children ?? []) await walk(prefix + digit);
  };
  await walk("");
  return out;
}

/** The shard a client is listed by, if any. */
const shardOfClient = async (clientId: string) => (await registrations()).get(clientId)?.[0] ?? null;

const client = fc.integer({ min: 0, max: CURRENCY_SETS.length - 1 });

type Command = fc.AsyncCommand<object, Harness>;
const command = (name: string, when: (h: Harness) => boolean, act: (h: Harness) => Promise<void>): Command => ({
  check: () => true,
  run: async (_m, h) => {
    if (!when(h)) return;
    console.log("CMD", Date.now() % 100000, name);
    await act(h);
    await h.check();
  },
  toString: () => name,
});

const commands = [
  fc.tuple(client, fc.constantFrom<Kind>("plain", "last_seq", "start_timedate")).map(([i, kind]) =>
    command(
      `connect ${i} ${kind}`,
      (h) => h.clients[i]!.sockets.length === 0,
      (h) => h.clients[i]!.connect(kind),
    ),
  ),
  client.map((i) =>
    command(
      `connect ${i} racing a tick`,
      (h) => h.clients[i]!.sockets.length === 0,
      (h) => h.clients[i]!.connect("plain", true),
    ),
  ),
  client.map((i) =>
    command(
      `second tab ${i}`,
      (h) => h.clients[i]!.sockets.length === 1,
      (h) => h.clients[i]!.connect("plain"),
    ),
  ),
  client.map((i) =>
    command(
      `close ${i}`,
      (h) => h.clients[i]!.sockets.length > 0,
      (h) => h.clients[i]!.close(),
    ),
  ),
  client.map((i) =>
    command(
      `close ${i} racing a tick`,
      (h) => h.clients[i]!.sockets.length > 0,
      (h) => h.clients[i]!.close(true),
    ),
  ),
  fc.subarray(MOVABLE, { minLength: 1 }).map((moved) =>
    command(
      `tick ${moved.join("+")}`,
      () => true,
      (h) => h.world.tick(moved),
    ),
  ),
  client.map((i) =>
    command(
      `restart session ${i}`,
      (h) => h.clients[i]!.known,
      async (h) => {
        const dropped = h.clients[i]!.socketsDropped();
        await restartObject(sessionStub(h.clients[i]!.clientId));
        await Promise.all(dropped);
      },
    ),
  ),
  // A deploy whose clients come back at once by last_seq is weighted up: it is how every client returns.
  ...[false, true, true, true].map((reconnect) =>
    fc.constant(
      command(
        reconnect
          ? "deploy, every connected client back at once by last_seq, a tick"
          : "deploy (every object restarts)",
        (h) => h.clients.some((c) => c.known),
        async (h) => {
          const connected = h.clients.filter((c) => c.sockets.length > 0);
          const dropped = h.clients.flatMap((c) => c.socketsDropped());
          // Sessions first: a hub restarted first may publish (its poll, armed again) to sessions that are
          // still running, which then checkpoint their live mark; a real deploy gives them no such chance.
          const shards = await shardsOfTree();
          for (const c of h.clients) if (c.known) await restartObject(sessionStub(c.clientId));
          for (const prefix of shards) await restartObject(shard(prefix));
          await restartObject(hub());
          await Promise.all(dropped);
          // As the client library does: back before any new tick, with the last seq it saw; then the next poll.
          if (!reconnect) return;
          for (const c of connected) await c.connect("last_seq");
          await h.world.tick(MOVABLE);
        },
      ),
    ),
  ),
  fc.constant(
    command(
      "a shard delivery throws",
      () => true,
      async (h) => {
        h.world.failShardOnce = true;
      },
    ),
  ),
  client.map((i) =>
    command(
      `session ${i} throws after handling`,
      (h) => h.clients[i]!.known,
      async (h) => {
        h.world.throwAfterReceive = h.clients[i]!.clientId;
      },
    ),
  ),
  client.map((i) =>
    command(
      `session ${i} hangs past the deadline`,
      (h) => h.clients[i]!.sockets.length > 0,
      async (h) => {
        const id = h.clients[i]!.clientId;
        const leaf = await shardOfClient(id);
        if (leaf === null) return;
        // Its shard gives up on it after 100 ms; the session answers after 400.
        await runInDurableObject(shard(leaf), (instance) => {
          const self = instance as unknown as { env: Env };
          self.env = { ...self.env, FANOUT_TIMEOUT_MS: "100" };
        });
        h.world.hang = id;
      },
    ),
  ),
  client.map((i) =>
    command(
      `a shard of ${i} loses its storage, then a lease passes`,
      (h) => h.clients[i]!.known,
      async (h) => {
        const id = h.clients[i]!.clientId;
        const lost = (await shardOfClient(id)) ?? (await recordOf(id))?.shard ?? "";
        await wipe(shard(lost));
        // A lease passes: every connected session registers again; every shard's watchdog finds its
        // parent silent and announces itself.
        for (const c of h.clients) if (c.sockets.length > 0) await runDurableObjectAlarm(sessionStub(c.clientId));
        for (const prefix of await shardsOfTree()) {
          await runInDurableObject(shard(prefix), (instance) => {
            (instance as unknown as { lastEventAtMs: number }).lastEventAtMs = 0;
          });
          await runDurableObjectAlarm(shard(prefix));
        }
      },
    ),
  ),
  client.map((i) =>
    command(
      `alarm ${i}`,
      (h) => h.clients[i]!.known,
      (h) => runDurableObjectAlarm(sessionStub(h.clients[i]!.clientId)).then(() => undefined),
    ),
  ),
  client.map((i) =>
    command(
      `expire ${i}`,
      (h) => h.clients[i]!.known && h.clients[i]!.sockets.length === 0,
      (h) => expire(h.clients[i]!.clientId).then(() => undefined),
    ),
  ),
  fc.constant(
    command(
      "newcomers split a leaf",
      () => true,
      async (h) => {
        // Registrations without sessions behind them: the leaf splits; the next event finds them gone.
        const leaf = (await shardOfClient(h.clients[0]!.clientId)) ?? "";
        const chunk = Number(env.FANOUT_CHUNK);
        const newcomers: string[] = [];
        for (let n = 0; newcomers.length <= chunk && n < 100_000; n++) {
          const id = `newcomer-${Math.random().toString(36).slice(2)}`;
          if (isOnPath(leaf, id)) newcomers.push(id);
        }
        for (const id of newcomers) await shard(leaf).register(id, { via: "record" });
        await sleep(50);
      },
    ),
  ),
];

afterEach(() => vi.restoreAllMocks());

describe("the resume promise, model-based", () => {
  it("holds for several clients behind a growing tree through restarts, deploys, failing, wiped shards", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 24 }), async (cmds) => {
        const harness = new Harness(`${++run}-${Math.random().toString(36).slice(2, 7)}`);
        const idOf = (self: object) => (self as { ctx: DurableObjectState }).ctx.id;
        const ids = new Map(harness.clients.map((c) => [c.clientId, env.CLIENT_SESSION.idFromName(c.clientId)]));
        const clientOf = (self: object) => [...ids].find(([, id]) => id.equals(idOf(self)))?.[0] ?? null;
        // Failing calls are injected on the caller's side of the stub: in the pool, an object whose RPC
        // method rejected cannot be evicted afterwards, and the deploy command evicts every object.
        const realBatch = StubCache.prototype.batch;
        vi.spyOn(StubCache.prototype, "batch").mockImplementation(function (this: StubCache<unknown>, names) {
          const stubs = realBatch.call(this, names);
          return stubs.map((stub, i) => withFault(harness.world, names[i]!, stub));
        });
        const realReceive = ClientSession.prototype.receive;
        vi.spyOn(ClientSession.prototype, "receive").mockImplementation(async function (this: ClientSession, ...args) {
          const id = clientOf(this);
          if (id !== null && harness.world.hang === id && decodeEvent(args[0]).kind === "tick") {
            harness.world.hang = null;
            await sleep(400);
          }
          return realReceive.apply(this, args);
        });
        try {
          await harness.world.tick(["USD", "EUR", "GBP"]);
          await fc.asyncModelRun(() => ({ model: {}, real: harness }), cmds);
          await quiesce(harness);
        } finally {
          vi.restoreAllMocks();
          for (const c of harness.clients) for (const s of c.sockets) s.client.close();
        }
      }),
      { numRuns: 40, endOnFailure: true },
    );
  }, 300_000);
});

/** After the run: no socketless session without an alarm, and no shard lists a purged session. */
async function quiesce(h: Harness): Promise<void> {
  for (const c of h.clients) while (c.sockets.length > 0) await c.close();
  for (const c of h.clients) {
    if (!c.known) continue;
    const stub = sessionStub(c.clientId);
    if (!(await recordOf(c.clientId))) continue;
    const alarmNow = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    if (alarmNow === null) console.log("NOALARM", c.clientId, JSON.stringify(await recordOf(c.clientId)));
    expect(alarmNow, "a socketless session has an alarm").not.toBeNull();
    await expire(c.clientId);
    expect(await recordOf(c.clientId)).toBeNull();
  }
  // A shard learns of a purge from the unregister, or at the latest from its next delivery.
  await h.world.tick(["USD", "EUR", "GBP"]);
  const listed = await registrations();
  for (const c of h.clients) expect(listed.has(c.clientId), `${c.clientId} is off every shard's list`).toBe(false);
}

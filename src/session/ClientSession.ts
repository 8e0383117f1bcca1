import { DurableObject } from "cloudflare:workers";
import { configOf, type Config } from "../config";
import type { FanoutEvent, FeedSnapshot, ReceiveResult, RegisterAnswer, ReplayQuery, SessionApi } from "../contracts";
import {
  applySubscription,
  errorMessage,
  heartbeatMessage,
  fail,
  gapMessage,
  parseClientFrame,
  parsePricefeedQuery,
  resetMessage,
  tickConcerns,
  welcomeMessage,
  type ClientMessage,
  type Currency,
  type PricefeedQuery,
  type Result,
  type Tick,
} from "../protocol";
import { decodeEvent } from "../relay/event-wire";
import { placeEvent } from "../relay/history-copy";
import { admitNewSession } from "../limits/new-session";
import { tooMany } from "../limits/rate-limit";
import { admitUpgrade } from "../limits/upgrade-window";
import { log } from "../shared/log";
import { errorResponse } from "../shared/responses";
import { TickTable, type SeqRange, type TickPage } from "../storage/tick-table";
import { shardStub } from "../stubs";
import { Connections, send, sendText, type SocketAttachment } from "./connections";
import { priceText } from "./frame-text";
import { beatDue, heartbeatDue } from "./heartbeat";
import { freshBudget, INBOUND_PER_SECOND, strike, takeToken } from "./inbound-limit";
import {
  DEPTH_HINT_HEADER,
  firstStep,
  MAX_REGISTER_STEPS,
  nextStep,
  parseDepthHint,
  SHARD_DEPTH_HEADER,
} from "./registration";
import { heldByClient, planReplay, planResume, sameQuery, shardQuery, type ReplayPlan } from "./replay";
import {
  addGap,
  afterRegistration,
  afterReplay,
  alarmDecision,
  bufferMayHoldTicks,
  caughtUp,
  changeEpoch,
  goOffline,
  leaseMs,
  newerTick,
  newRecord,
  readRecord,
  recordAfterWake,
  recordGap,
  replaysFromShard,
  routeTick,
  type LiveMark,
  type SessionRecord,
} from "./session-state";

const RECORD_KEY = "session";

/** What a registration brought: the record after it, the replay asked with it, and where the feed stood. */
interface Joined {
  record: SessionRecord;
  replay: { query: ReplayQuery; page: TickPage } | null;
  /** The shard's snapshot; null when the session did not register (another socket is live). */
  registered: FeedSnapshot | null;
}

/**
 * One object per client_id: holds its sockets (hibernation API), registers with its shard of the
 * fan-out tree, buffers the ticks it misses while offline and replays them on reconnect, and forgets
 * the client CLIENT_TTL_S after it left. The decisions are pure functions of its record
 * (session-state.ts, replay.ts, registration.ts); this class reads and writes the record, the buffer,
 * the alarm and the sockets (connections.ts).
 */
export class ClientSession extends DurableObject<Env> implements SessionApi {
  private readonly buffer: TickTable;
  private readonly connections: Connections;
  /** Ticks, replays, closes and alarms are handled one at a time, in arrival order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The record in memory between events; undefined after a wake until first loaded. */
  private cached: SessionRecord | null | undefined;
  /** What storedRecord() read for an upgrade, until load() takes it. */
  private readAtUpgrade: { value: unknown } | undefined;
  /** When this client's recent upgrades were admitted (src/limits/upgrade-window.ts). */
  private upgrades: number[] = [];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.buffer = new TickTable(ctx.storage.sql, "buffer");
    this.connections = new Connections(ctx);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  private get config(): Config {
    return configOf(this.env);
  }

  /**
   * The record, read from storage once per wake. A record that says live when no live socket is
   * left (the runtime restarted) goes offline here, durably, with its purge alarm (see recordAfterWake).
   */
  private async load(closing?: WebSocket): Promise<SessionRecord | null> {
    if (this.cached !== undefined) return this.cached;
    const stored = readRecord(this.storedRecord(), Date.now());
    this.readAtUpgrade = undefined;
    if (!stored) {
      this.cached = null;
      return null;
    }
    const marks: LiveMark[] = [];
    for (const ws of closing ? [...this.connections.all(), closing] : this.connections.all()) {
      const mark = this.connections.attachment(ws)?.mark;
      if (mark) marks.push(mark);
    }
    const record = recordAfterWake(stored, { live: this.connections.live().length, marks }, Date.now());
    if (record.link.state === "offline" && stored.link.state === "live") {
      // No log line here: after a deploy every session passes this way, and a line each (a million at a
      // million clients) would cost more than the wake itself.
      await this.goneOffline(record);
    } else {
      this.cached = record;
    }
    return record;
  }

  /**
   * The record as stored, before load() has made it the session's: an upgrade needs to know whether the
   * client is known, and the load that follows in the same wake takes the same read.
   */
  private storedRecord(): unknown {
    if (this.cached !== undefined) return this.cached ?? undefined;
    this.readAtUpgrade ??= { value: this.ctx.storage.kv.get(RECORD_KEY) };
    return this.readAtUpgrade.value;
  }

  /** Writes the record (a checkpoint of the live mark, when live); memory follows only a write that held. */
  private save(record: SessionRecord): void {
    this.ctx.storage.kv.put(RECORD_KEY, record);
    this.cached = record;
  }

  /**
   * The session handled a tick live: each socket keeps the mark, and when it was last sent something.
   * The mark moves in memory and in the live sockets' attachments, not in storage: a durable write (an
   * fsync) per client per tick was most of the fan-out's cost. Attachments survive hibernation; a
   * restart loses them, and then the stored checkpoint is where the resume starts.
   */
  private rememberLive(
    record: SessionRecord,
    sockets: [WebSocket, SocketAttachment][],
    sentAtMs: Map<WebSocket, number>,
  ) {
    this.cached = record;
    const mark: LiveMark = { handledSeq: record.handledSeq, lastTick: record.lastTick };
    for (const [ws] of sockets) {
      const lastSentAtMs = sentAtMs.get(ws);
      this.connections.update(ws, lastSentAtMs === undefined ? { mark } : { mark, lastSentAtMs });
    }
  }

  /**
   * A beat: the shard passes one on after HEARTBEAT_S of quiet, so a live socket gets a heartbeat unless
   * it was just sent something (a beat that caught this session up). Its seq is the session's mark:
   * every tick up to it that moved a socket's currencies was sent on it.
   */
  private sendHeartbeats(): void {
    const record = this.cached;
    if (record?.link.state !== "live") return;
    const now = Date.now();
    const frame = heartbeatMessage(record.handledSeq, now);
    for (const [ws, attachment] of this.connections.live()) {
      if (!beatDue(attachment, now, this.config.heartbeatS)) continue;
      if (send(ws, frame)) this.connections.update(ws, { lastSentAtMs: now });
    }
  }

  private async goneOffline(record: SessionRecord): Promise<void> {
    this.save(record);
    if (record.link.state === "offline") {
      await this.ctx.storage.setAlarm(record.link.sinceMs + this.config.clientTtlS * 1000);
    }
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch((error) => log("session_task_failed", { error: String(error) }));
    return run;
  }

  /** The Worker has validated the query; this counts the upgrade, accepts the socket and starts its replay. */
  override async fetch(request: Request): Promise<Response> {
    const verdict = admitUpgrade(this.upgrades, Date.now(), { limit: this.config.resumesPerMinute, periodMs: 60_000 });
    this.upgrades = verdict.window;
    if (!verdict.admitted) return tooMany("too many connections for this client_id", verdict.retryAfterS);
    const known = this.storedRecord() as SessionRecord | undefined;
    const refused = known === undefined ? await admitNewSession(this.env, request) : null;
    if (refused) return refused;
    const parsed = parsePricefeedQuery(new URL(request.url).searchParams, Date.now());
    if (!parsed.ok) return errorResponse(400, parsed.error);
    const { clientId } = parsed.value;
    if (clientId === null) return errorResponse(400, { code: "invalid_client_id", message: "client_id missing" });
    const query = parsed.value;
    const config = this.config;
    const { 0: client, 1: server } = new WebSocketPair();
    const headers = known?.shard != null ? { [SHARD_DEPTH_HEADER]: String(known.shard.length) } : undefined;

    if (this.connections.open().length >= config.maxSocketsPerClient) {
      const refusal = errorMessage("too_many_sockets", `at most ${config.maxSocketsPerClient} sockets per client_id`);
      this.connections.refuse(server, refusal, 1008, "too many sockets for this client_id");
      return new Response(null, { status: 101, webSocket: client });
    }

    const now = Date.now();
    this.connections.accept(server, {
      currencies: query.currencies,
      ready: false,
      connectedAtMs: now,
      inbound: freshBudget(now),
    });
    const hint = parseDepthHint(request.headers.get(DEPTH_HINT_HEADER));
    this.ctx.waitUntil(
      this.serially(() =>
        this.startSocket(server, clientId, query, hint).catch((error) => {
          // Without its replay the socket cannot promise "no hole": tell the client to come back.
          log("socket_start_failed", { client_id: clientId, error: String(error) });
          send(server, errorMessage("unavailable", "the feed could not start this connection; reconnect"));
          server.close(1011, "try again");
        }),
      ),
    );
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /** welcome → reset (if any) → replay (if any) → replay_end → snapshot when nothing was replayed → live. */
  private async startSocket(ws: WebSocket, clientId: string, query: PricefeedQuery, hintDepth: number): Promise<void> {
    const config = this.config;
    // A known session has its alarm already (the purge, or the lease of another socket): when it
    // fires with a socket open it renews the lease (alarmDecision). Nothing to change here.
    const previous = await this.load();
    const currencies = query.currenciesGiven || !previous ? query.currencies : previous.currencies;
    if (currencies !== query.currencies) this.connections.update(ws, { currencies });
    const joined = await this.joinIfNeeded(ws, clientId, currencies, query, previous, hintDepth);
    const record: SessionRecord = { ...joined.record, currencies };
    const resumed = previous !== null;
    send(
      ws,
      welcomeMessage({
        client_id: clientId,
        currencies,
        resumed,
        interval_ms: config.pollIntervalMs,
        epoch: record.epoch,
        heartbeat_s: config.heartbeatS,
      }),
    );

    const plan = planResume(query, record);
    const held = heldByClient(query, plan, joined.registered, record.epoch);
    if (plan.resetFrom !== null) send(ws, resetMessage(record.epoch, plan.resetFrom));
    // Another tab is live: ticks past the session's mark reach it (and this socket) live, not here.
    const upToSeq = this.connections.live(ws).length > 0 ? record.handledSeq : Number.POSITIVE_INFINITY;
    let replayed = 0;
    let newest: Tick | null = null;
    if (plan.replay.source !== "none" || (plan.resetFrom !== null && query.lastSeq !== null)) {
      const page =
        plan.replay.source === "none" ? { ticks: [], gaps: [] } : await this.replayPage(plan.replay, record, joined);
      for (const item of inSeqOrder(page.ticks, page.gaps)) {
        if ("fromSeq" in item) {
          if (item.fromSeq <= upToSeq) send(ws, gapMessage(item));
          continue;
        }
        if (item.seq > upToSeq) break;
        newest = item;
        if (tickConcerns(item, currencies) && sendText(ws, priceText(item, currencies, true))) replayed++;
      }
      send(ws, { type: "replay_end", count: replayed });
    }
    // A client always starts with a price; on a resume it may hold it already, so it comes as replayed.
    const snapshot = newest ?? newerTick(held?.latest ?? null, record.lastTick);
    if (replayed === 0 && snapshot) sendText(ws, priceText(snapshot, currencies, resumed && plan.resetFrom === null));
    if (record.status.state !== "live") send(ws, record.status);

    // Re-read: a subscribe frame may have changed the currencies while the replay was awaited.
    const current = { ...record, currencies: this.cached?.currencies ?? currencies };
    const open = ws.readyState === WebSocket.OPEN;
    const next = afterReplay(current, open, newest, held);
    if (open && bufferMayHoldTicks(current)) this.buffer.clear();
    this.save(next);
    // A new session's record and its first alarm (the lease) commit together.
    if (!previous) await this.ctx.storage.setAlarm(Date.now() + leaseMs(config.clientTtlS * 1000));
    if (open) {
      const mark = { handledSeq: next.handledSeq, lastTick: next.lastTick };
      this.connections.update(ws, { ready: true, mark, lastSentAtMs: Date.now() });
    } else if (this.connections.live().length === 0) {
      await this.goneOffline(goOffline(next, Date.now()));
    }
  }

  /**
   * A socket that finds no other socket live registers with the shard on its client's path: a new
   * session to join, a known one because it may have missed what its shard sent while it was away (a
   * restart, or a shard that lost its storage and forgot it). The replay the client asks for comes with
   * the registration, in the same call; a known session without one asks for what its shard holds past
   * its mark, and takes it as a late delivery. The hub is never called.
   */
  private async joinIfNeeded(
    ws: WebSocket,
    clientId: string,
    currencies: Currency[],
    query: PricefeedQuery,
    previous: SessionRecord | null,
    hintDepth: number,
  ): Promise<Joined> {
    if (previous && previous.shard !== null && this.connections.live(ws).length > 0) {
      return { record: previous, replay: null, registered: null };
    }
    // Asked before the epoch is known: if the client turns out to need a reset instead, it goes unused.
    const planned = shardQuery(planReplay(query, previous));
    const tail = previous && !planned ? { afterSeq: previous.handledSeq } : undefined;
    const answer = await this.register(clientId, previous?.shard ?? null, hintDepth, planned ?? tail);
    const registered = answer.snapshot;
    const replay = planned && answer.replay ? { query: planned, page: answer.replay } : null;
    if (!previous) return { record: newRecord(clientId, currencies, answer.shard, registered), replay, registered };
    const record = afterRegistration(previous, answer.shard, registered);
    if (record.epoch !== previous.epoch) {
      log("session_epoch_changed", { client_id: clientId, from: previous.epoch, to: record.epoch });
      return { record, replay: null, registered };
    }
    if (tail && answer.replay) {
      // What the shard sent while the session was not listed: handled now, as the delivery it missed.
      this.save(record);
      this.fillHole(answer.replay, registered.headSeq + 1);
      return { record: caughtUp(this.cached!), replay: null, registered };
    }
    return { record, replay, registered };
  }

  /** Registers with the shard on the client's path, following redirects; the hub is never called. */
  private async register(
    clientId: string,
    recorded: string | null,
    hintDepth: number,
    replay: ReplayQuery | undefined,
  ): Promise<Extract<RegisterAnswer, { kind: "registered" }>> {
    let step = firstStep(clientId, recorded, hintDepth);
    for (let i = 0; i < MAX_REGISTER_STEPS; i++) {
      const answer = await shardStub(this.env, step.shard).register(clientId, {
        via: step.via,
        ...(replay ? { replay, replayLimit: this.config.maxReplay } : {}),
      });
      if (answer.kind === "registered") return answer;
      step = nextStep(step, answer);
    }
    throw new Error(`no shard took ${clientId} within ${MAX_REGISTER_STEPS} steps`);
  }

  private async replayPage(
    plan: Exclude<ReplayPlan, { source: "none" }>,
    record: SessionRecord,
    joined: Joined,
  ): Promise<{ ticks: Tick[]; gaps: SeqRange[] }> {
    const config = this.config;
    if (plan.source === "buffer") {
      const page =
        "afterSeq" in plan
          ? this.buffer.after(plan.afterSeq, config.maxBuffer)
          : this.buffer.since(plan.sinceMs, config.maxBuffer);
      const recorded = record.link.state === "offline" ? record.link.gaps : [];
      return { ticks: page.ticks, gaps: page.gap ? addGap(recorded, page.gap) : recorded };
    }
    const query = shardQuery(plan)!;
    const page =
      joined.replay && sameQuery(joined.replay.query, query)
        ? joined.replay.page
        : await shardStub(this.env, record.shard!).replay(query, config.maxReplay);
    return { ticks: page.ticks, gaps: page.gap ? [page.gap] : [] };
  }

  /** Called by the session's shard for every published tick, status change, and beat in a quiet market. */
  async receive(sent: FanoutEvent | string): Promise<ReceiveResult> {
    const event = decodeEvent(sent);
    return this.serially(async () => {
      let record = await this.load();
      if (!record) return { subscribed: false };
      if (event.kind === "status") {
        if (event.atMs < record.statusAtMs) return { subscribed: true };
        this.save({ ...record, status: event.status, statusAtMs: event.atMs });
        this.connections.broadcast(event.status);
        return { subscribed: true };
      }
      if (record.link.state === "live" && this.connections.live().length === 0) {
        // Every socket is closing and no close has run yet: nobody would get this tick. Offline from here.
        record = goOffline(record, Date.now());
        await this.goneOffline(record);
      }
      if (event.epoch.id !== record.epoch) record = this.switchEpoch(record, event.epoch.id, event.epoch.startSeq);
      // Its next socket replays these ticks from the shard: nothing to keep, no hole to fill, and nothing
      // more to send it until it registers again.
      if (replaysFromShard(record)) return { subscribed: true, parked: true };
      const placement = placeEvent({ epoch: event.epoch, headSeq: record.handledSeq }, event);
      // A hole: a lost delivery, or back from a restart. The shard reads its history once for every
      // session of its batch and sends the event again with it; only then is the event handled.
      if (placement.place === "hole") return { subscribed: true, missingAfter: placement.missingAfter };
      if (placement.place !== "held") {
        if (event.backlog) this.fillHole(event.backlog, event.kind === "tick" ? event.tick.seq : event.headSeq + 1);
        if (event.kind === "tick") this.handleTick(event.tick);
      }
      if (event.kind === "beat") this.sendHeartbeats();
      if (placement.place === "held") return { subscribed: true };
      // The session now holds everything its shard has: a reconnect need not ask again.
      const after = this.cached;
      const upToDate = after && caughtUp(after);
      if (upToDate && upToDate !== after) this.save(upToDate);
      return { subscribed: true };
    });
  }

  /** The ticks before `beforeSeq` that the session missed, from its shard's history; what it no longer has is a gap. */
  private fillHole(missed: TickPage, beforeSeq: number): void {
    if (missed.gap) this.handleGap(missed.gap);
    for (const tick of missed.ticks) if (tick.seq < beforeSeq) this.handleTick(tick);
    const record = this.cached;
    if (!record || record.handledSeq >= beforeSeq - 1) return;
    // The history did not reach that far: what is still missing is a gap too, never a silent hole.
    this.handleGap({ fromSeq: record.handledSeq + 1, toSeq: beforeSeq - 1 });
  }

  private handleTick(tick: Tick): void {
    const record = this.cached;
    if (!record) return;
    const routed = routeTick(record, tick);
    if (routed.route === "drop") return;
    if (routed.route === "sockets") {
      const sockets = this.connections.live();
      const now = Date.now();
      const sentAtMs = new Map<WebSocket, number>();
      for (const [ws, attachment] of sockets) {
        const frame = tickConcerns(tick, attachment.currencies)
          ? priceText(tick, attachment.currencies, false)
          : heartbeatDue(attachment, now, this.config.heartbeatS)
            ? JSON.stringify(heartbeatMessage(tick.seq, now))
            : null;
        if (frame !== null && sendText(ws, frame)) sentAtMs.set(ws, now);
      }
      this.rememberLive(routed.record, sockets, sentAtMs);
      return;
    }
    const next = this.ctx.storage.transactionSync(() => {
      this.buffer.insert(tick);
      const buffered = recordGap(routed.record, this.buffer.trimTo(this.config.maxBuffer));
      this.ctx.storage.kv.put(RECORD_KEY, buffered);
      return buffered;
    });
    // Only once the buffer and the record are stored: a write that throws leaves memory as storage is.
    this.cached = next;
  }

  private handleGap(announced: SeqRange): void {
    const record = this.cached;
    if (!record || announced.toSeq <= record.handledSeq) return;
    const gap = { fromSeq: Math.max(announced.fromSeq, record.handledSeq + 1), toSeq: announced.toSeq };
    const skipped = { ...record, handledSeq: gap.toSeq };
    if (record.link.state === "live") {
      this.connections.broadcast(gapMessage(gap));
      this.cached = skipped;
    } else {
      this.save(recordGap(skipped, gap));
    }
  }

  /** The history is another one: live sockets are told now, an absent client on its next socket. */
  private switchEpoch(record: SessionRecord, epoch: string, firstSeq: number): SessionRecord {
    log("session_epoch_changed", { client_id: record.clientId, from: record.epoch, to: epoch });
    if (record.link.state === "live") this.connections.broadcast(resetMessage(epoch, record.epoch));
    this.buffer.clear();
    this.save(changeEpoch(record, epoch, firstSeq));
    return this.cached!;
  }

  /** Client frames: subscribe/unsubscribe. Nothing a client sends can throw here or touch the buffer. */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const attachment = this.connections.attachment(ws);
    if (!attachment) return;
    const taken = takeToken(attachment.inbound, Date.now());
    const frame: Result<ClientMessage> = !taken.allowed
      ? fail("too_many_frames", `at most ${INBOUND_PER_SECOND} frames per second`)
      : typeof message !== "string"
        ? fail("binary_not_supported", "binary frames are not supported; send JSON text")
        : parseClientFrame(message);
    if (!frame.ok) {
      const refused = strike(taken.budget);
      this.connections.update(ws, { inbound: refused.budget });
      send(ws, { type: "error", ...frame.error });
      if (refused.close) ws.close(1008, "too many refused frames");
      return;
    }
    const currencies = applySubscription(attachment.currencies, frame.value);
    this.connections.update(ws, { currencies, inbound: { ...taken.budget, strikes: 0 } });
    const record = await this.load();
    if (record) this.save({ ...record, currencies });
    send(ws, { type: "subscribed", currencies });
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    // Answer the client's Close (reserved codes cannot be sent back); a runtime that already
    // answered it makes this throw, which is fine.
    try {
      ws.close(code === 1005 || code === 1006 || code === 1015 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
    await this.socketGone(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.socketGone(ws);
  }

  private socketGone(ws: WebSocket): Promise<void> {
    this.connections.forget(ws);
    if (this.connections.isRefused(ws)) return Promise.resolve();
    return this.serially(async () => {
      // Woken by this close: the closing socket's attachment may hold the newest mark.
      const record = await this.load(ws);
      if (!record || record.link.state === "offline" || this.connections.live(ws).length > 0) return;
      const currencies = this.connections.attachment(ws)?.currencies ?? record.currencies;
      await this.goneOffline(goOffline({ ...record, currencies }, Date.now()));
    });
  }

  /** The lease: renewed while a socket is open; CLIENT_TTL_S after the last one left, the purge. */
  override async alarm(): Promise<void> {
    await this.serially(async () => {
      const record = await this.load();
      const ttlMs = this.config.clientTtlS * 1000;
      const decision = alarmDecision(record, this.connections.open().length, Date.now(), ttlMs);
      if (decision.action === "purge") {
        await this.purge(record, ttlMs);
        return;
      }
      if (decision.action === "renew" && record) await this.renewLease(record);
      await this.ctx.storage.setAlarm(decision.nextAtMs);
    });
  }

  /**
   * A connected session registers with its shard again at every lease: a shard that lost its storage
   * lists it again, and what the session missed meanwhile (another epoch, a newer status, ticks past
   * its mark) reaches its sockets now. Then the live mark is checkpointed.
   */
  private async renewLease(record: SessionRecord): Promise<void> {
    let answer: Extract<RegisterAnswer, { kind: "registered" }>;
    try {
      answer = await this.register(record.clientId, record.shard, 0, { afterSeq: record.handledSeq });
    } catch (error) {
      log("session_lease_register_failed", { client_id: record.clientId, error: String(error) });
      this.save(record);
      return;
    }
    const { snapshot } = answer;
    let current = this.cached ?? record;
    if (snapshot.epoch.id !== current.epoch)
      current = this.switchEpoch(current, snapshot.epoch.id, snapshot.epoch.startSeq);
    if (snapshot.statusAtMs > current.statusAtMs) {
      current = { ...current, status: snapshot.status, statusAtMs: snapshot.statusAtMs };
      this.connections.broadcast(snapshot.status);
    }
    this.save({ ...current, shard: answer.shard });
    if (answer.replay && snapshot.epoch.id === record.epoch) this.fillHole(answer.replay, snapshot.headSeq + 1);
    this.save(this.cached!);
  }

  /** Leaves the shard the session registered with, or the child it was handed down to since. */
  private async unregister(clientId: string, shard: string): Promise<void> {
    let at: string | undefined = shard;
    for (let i = 0; at !== undefined && i < MAX_REGISTER_STEPS; i++) {
      const answer = await shardStub(this.env, at).unregister(clientId);
      at = answer.moved;
    }
  }

  /** The client stayed away for CLIENT_TTL_S: forget it and leave its shard. */
  private async purge(record: SessionRecord | null, ttlMs: number): Promise<void> {
    if (record) {
      // Recorded first: if a reconnect wins the race below, it knows to register again.
      this.save({ ...record, shard: null });
      if (record.shard !== null) {
        try {
          await this.unregister(record.clientId, record.shard);
        } catch (error) {
          // The shard drops the client anyway at its next event: this session will have no record then.
          log("session_unregister_failed", { client_id: record.clientId, error: String(error) });
        }
      }
    }
    if (this.connections.open().length > 0) {
      // A reconnect won the race: it registers again; keep the lease.
      await this.ctx.storage.setAlarm(Date.now() + leaseMs(ttlMs));
      return;
    }
    await this.ctx.storage.deleteAll();
    this.cached = null;
    this.buffer.forget();
    log("session_expired", { client_id: record?.clientId ?? null });
  }
}

/** Ticks and gaps of a replay, merged in seq order: a gap is told just where it lies among the ticks. */
function inSeqOrder(ticks: readonly Tick[], gaps: readonly SeqRange[]): readonly (Tick | SeqRange)[] {
  if (gaps.length === 0) return ticks;
  const items: (Tick | SeqRange)[] = [...ticks, ...gaps];
  const seqOf = (item: Tick | SeqRange) => ("fromSeq" in item ? item.fromSeq : item.seq);
  return items.sort((a, b) => seqOf(a) - seqOf(b));
}

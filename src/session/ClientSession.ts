import { DurableObject } from "cloudflare:workers";
import { readConfig, type Config } from "../config";
import type { HubApi, HubEvent, ReceiveResult, SessionApi } from "../contracts";
import {
  applySubscription,
  errorMessage,
  gapMessage,
  resetMessage,
  welcomeMessage,
  fail,
  parseClientFrame,
  parsePricefeedQuery,
  priceMessage,
  tickConcerns,
  type ClientMessage,
  type Currency,
  type PricefeedQuery,
  type Result,
  type ServerMessage,
  type Tick,
} from "../protocol";
import { admitNewSession } from "../http/new-session";
import { log } from "../shared/log";
import { errorResponse } from "../shared/responses";
import { TickTable, type SeqRange, type TickPage } from "../storage/tick-table";
import { hubApi } from "../stubs";
import { freshBudget, INBOUND_PER_SECOND, strike, takeToken } from "./inbound-limit";
import { planResume, type ReplayPlan } from "./replay";
import {
  afterReplay,
  caughtUp,
  changeEpoch,
  goOffline,
  leaseMs,
  onAlarm,
  onWake,
  readRecord,
  recordGap,
  routeTick,
  UNKNOWN_EPOCH,
  type LiveMark,
  type SessionRecord,
} from "./session-state";
import { attachmentOf, send, type SocketAttachment } from "./socket";

const RECORD_KEY = "session";

/**
 * One object per client_id: holds its sockets (hibernation API), buffers the ticks it misses
 * while offline and replays them on reconnect, and forgets the client CLIENT_TTL_S after it left.
 * The decisions are pure functions of its record (session-state.ts, replay.ts); this class reads
 * and writes the record, the buffer, the alarm and the sockets.
 */
export class ClientSession extends DurableObject<Env> implements SessionApi {
  private readonly buffer: TickTable;
  /** Ticks, replays, closes and alarms are handled one at a time, in arrival order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The record in memory between events; undefined after a wake until first loaded. */
  private cached: SessionRecord | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.buffer = new TickTable(ctx.storage.sql, "buffer");
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  private get config(): Config {
    return readConfig(this.env);
  }

  private get hub(): DurableObjectStub<HubApi> {
    return hubApi(this.env);
  }

  /**
   * The record, read from storage once per wake. A record that says live when no live socket is
   * left (the runtime restarted) goes offline here, durably, with its purge alarm (see onWake).
   */
  private async load(closing?: WebSocket): Promise<SessionRecord | null> {
    if (this.cached !== undefined) return this.cached;
    const stored = readRecord(this.ctx.storage.kv.get(RECORD_KEY), Date.now());
    if (!stored) {
      this.cached = null;
      return null;
    }
    const marks: LiveMark[] = [];
    for (const ws of closing ? [...this.ctx.getWebSockets(), closing] : this.ctx.getWebSockets()) {
      const mark = attachmentOf(ws)?.mark;
      if (mark) marks.push(mark);
    }
    const record = onWake(stored, { live: this.liveSockets().length, marks }, Date.now());
    if (record.link.state === "offline" && stored.link.state === "live") {
      log("session_offline_on_wake", {
        client_id: record.clientId,
        from_seq: record.link.fromSeq,
        restart: record.link.behind,
      });
      await this.goneOffline(record);
    } else {
      this.cached = record;
    }
    return record;
  }

  /** Writes the record (a checkpoint of the live mark, when live). */
  private save(record: SessionRecord): void {
    this.cached = record;
    this.ctx.storage.kv.put(RECORD_KEY, record);
  }

  /**
   * A live tick moves the mark in memory and in the live sockets' attachments, not in storage: a
   * durable write (an fsync) per client per tick was most of the fan-out's cost. Attachments survive
   * hibernation; a restart loses them, and then the stored checkpoint is where the resume starts.
   */
  private rememberLive(record: SessionRecord, sockets: [WebSocket, SocketAttachment][]): void {
    this.cached = record;
    const mark: LiveMark = { handledSeq: record.handledSeq, lastTick: record.lastTick };
    for (const [ws, attachment] of sockets) ws.serializeAttachment({ ...attachment, mark });
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

  private openSockets(except?: WebSocket): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws !== except && ws.readyState === WebSocket.OPEN);
  }

  /** Open sockets that have had their welcome and replay, with their attachments, read once per event. */
  private liveSockets(except?: WebSocket): [WebSocket, SocketAttachment][] {
    const out: [WebSocket, SocketAttachment][] = [];
    for (const ws of this.openSockets(except)) {
      const attachment = attachmentOf(ws);
      if (attachment?.ready) out.push([ws, attachment]);
    }
    return out;
  }

  private broadcast(message: ServerMessage): void {
    for (const [ws] of this.liveSockets()) send(ws, message);
  }

  /** The Worker has validated the query; this accepts the socket and starts its replay. */
  override async fetch(request: Request): Promise<Response> {
    const refused = this.ctx.storage.kv.get(RECORD_KEY) === undefined ? await admitNewSession(this.env, request) : null;
    if (refused) return refused;
    const parsed = parsePricefeedQuery(new URL(request.url).searchParams, Date.now());
    if (!parsed.ok) return errorResponse(400, parsed.error);
    const { clientId } = parsed.value;
    if (clientId === null) return errorResponse(400, { code: "invalid_client_id", message: "client_id missing" });
    const query = parsed.value;
    const config = this.config;
    const { 0: client, 1: server } = new WebSocketPair();

    if (this.openSockets().length >= config.maxSocketsPerClient) {
      server.accept();
      send(server, errorMessage("too_many_sockets", `at most ${config.maxSocketsPerClient} sockets per client_id`));
      server.close(1008, "too many sockets for this client_id");
      return new Response(null, { status: 101, webSocket: client });
    }

    const now = Date.now();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({
      currencies: query.currencies,
      ready: false,
      connectedAtMs: now,
      inbound: freshBudget(now),
    } satisfies SocketAttachment);
    this.ctx.waitUntil(
      this.serially(() =>
        this.startSocket(server, clientId, query).catch((error) => {
          // Without its replay the socket cannot promise "no hole": tell the client to come back.
          log("socket_start_failed", { client_id: clientId, error: String(error) });
          send(server, errorMessage("unavailable", "the feed could not start this connection; reconnect"));
          server.close(1011, "try again");
        }),
      ),
    );
    return new Response(null, { status: 101, webSocket: client });
  }

  /** welcome → reset (if any) → replay (if any) → replay_end → snapshot when nothing was replayed → live. */
  private async startSocket(ws: WebSocket, clientId: string, query: PricefeedQuery): Promise<void> {
    const config = this.config;
    // A known session has its alarm already (the purge, or the lease of another socket): when it
    // fires with a socket open it only renews the lease (onAlarm). Nothing to change here.
    const previous = await this.load();
    const currencies = query.currenciesGiven || !previous ? query.currencies : previous.currencies;
    const attachment = attachmentOf(ws);
    if (attachment) ws.serializeAttachment({ ...attachment, currencies });
    const joined =
      previous?.onHub && previous.epoch !== UNKNOWN_EPOCH ? previous : await this.join(clientId, currencies, previous);
    const record: SessionRecord = { ...joined, currencies };
    const resumed = previous !== null;
    send(
      ws,
      welcomeMessage({
        client_id: clientId,
        currencies,
        resumed,
        interval_ms: config.pollIntervalMs,
        epoch: record.epoch,
      }),
    );

    const plan = planResume(query, record);
    if (plan.resetFrom !== null) send(ws, resetMessage(record.epoch, plan.resetFrom));
    // Another tab is live: ticks past the session's mark reach it (and this socket) live, not here.
    const upToSeq = this.liveSockets(ws).length > 0 ? record.handledSeq : Infinity;
    let replayed = 0;
    let newest: Tick | null = null;
    if (plan.replay.source !== "none" || (plan.resetFrom !== null && query.lastSeq !== null)) {
      const page =
        plan.replay.source === "none" ? { ticks: [], gap: null } : await this.replayPage(plan.replay, record, config);
      if (page.gap) send(ws, gapMessage(page.gap));
      for (const tick of page.ticks) {
        if (tick.seq > upToSeq) break;
        newest = tick;
        if (tickConcerns(tick, currencies) && send(ws, priceMessage(tick, currencies, true))) replayed++;
      }
      send(ws, { type: "replay_end", count: replayed });
    }
    // A client always starts with a price; on a resume it may hold it already, so it comes as replayed.
    const snapshot = newest ?? record.lastTick;
    if (replayed === 0 && snapshot) send(ws, priceMessage(snapshot, currencies, resumed && plan.resetFrom === null));
    if (record.status.state !== "live") send(ws, record.status);

    // Re-read: a subscribe frame may have changed the currencies while the replay was awaited.
    const current = { ...record, currencies: this.cached?.currencies ?? currencies };
    const open = ws.readyState === WebSocket.OPEN;
    const next = afterReplay(current, open, newest);
    if (open && current.link.state === "offline") this.buffer.clear();
    this.save(next);
    // A new session's record and its first alarm (the lease) commit together.
    if (!previous) await this.ctx.storage.setAlarm(Date.now() + leaseMs(config.clientTtlS * 1000));
    if (open) {
      const now = attachmentOf(ws);
      if (now)
        ws.serializeAttachment({ ...now, ready: true, mark: { handledSeq: next.handledSeq, lastTick: next.lastTick } });
    } else if (this.liveSockets().length === 0) {
      await this.goneOffline(goOffline(next, Date.now()));
    }
  }

  /** Puts the client on the hub's list; a new client starts from the hub's latest tick and status. */
  private async join(clientId: string, currencies: Currency[], previous: SessionRecord | null): Promise<SessionRecord> {
    const hub = await this.hub.subscribe(clientId);
    if (previous) {
      const adopted = previous.epoch === UNKNOWN_EPOCH ? { ...previous, epoch: hub.epoch } : previous;
      const record =
        adopted.epoch === hub.epoch ? adopted : this.startEpoch(adopted, hub.epoch, (hub.latest?.seq ?? 0) + 1);
      return { ...record, onHub: true, lastTick: record.lastTick ?? hub.latest };
    }
    const handledSeq = hub.latest?.seq ?? 0;
    return {
      clientId,
      epoch: hub.epoch,
      currencies,
      status: hub.status,
      onHub: true,
      handledSeq,
      lastTick: hub.latest,
      // Nothing to replay; a socket lost before it is live makes it offline (end of startSocket).
      link: { state: "live" },
      resetFrom: null,
    };
  }

  private async replayPage(
    plan: Exclude<ReplayPlan, { source: "none" }>,
    record: SessionRecord,
    config: Config,
  ): Promise<TickPage> {
    if (plan.source === "buffer") {
      const page =
        "afterSeq" in plan
          ? this.buffer.after(plan.afterSeq, config.maxBuffer)
          : this.buffer.since(plan.sinceMs, config.maxBuffer);
      const dropped = record.link.state === "offline" ? record.link.gap : null;
      return { ticks: page.ticks, gap: dropped ?? page.gap };
    }
    return "afterSeq" in plan
      ? this.hub.ticksAfter(plan.afterSeq, config.maxReplay)
      : this.hub.ticksSince(plan.sinceMs, config.maxReplay);
  }

  /** Called by the hub (or a relay) for every published tick and status change. */
  async receive(event: HubEvent): Promise<ReceiveResult> {
    return this.serially(async () => {
      let record = await this.load();
      if (!record) return { subscribed: false };
      if (event.kind === "status") {
        this.save({ ...record, status: event.status });
        this.broadcast(event.status);
        return { subscribed: true };
      }
      const { tick, epoch, backlog } = event;
      if (epoch !== record.epoch) record = this.switchEpoch(record, epoch, tick.seq);
      if (tick.seq > record.handledSeq + 1) {
        // A hole: a lost delivery, or back from a restart. The deliverer reads the history once for
        // every session of its batch and sends the tick again with it; only then is the tick handled.
        if (!backlog) return { subscribed: true, missingAfter: record.handledSeq };
        this.fillHole(backlog, tick.seq);
      }
      this.handleTick(tick);
      // The session now holds everything the hub has: a reconnect need not ask the hub.
      const after = this.cached;
      const upToDate = after && caughtUp(after);
      if (upToDate && upToDate !== after) this.save(upToDate);
      return { subscribed: true };
    });
  }

  /** The ticks before `beforeSeq` that the session missed, from the hub's history; what it no longer has is a gap. */
  private fillHole(missed: TickPage, beforeSeq: number): void {
    if (missed.gap) this.handleGap(missed.gap);
    for (const tick of missed.ticks) if (tick.seq < beforeSeq) this.handleTick(tick);
    const record = this.cached;
    if (!record || record.handledSeq >= beforeSeq - 1) return;
    // The history did not reach that far: what is still missing is a gap too, never a silent hole.
    const gap = { fromSeq: record.handledSeq + 1, toSeq: beforeSeq - 1 };
    const skipped = { ...record, handledSeq: gap.toSeq };
    if (record.link.state === "live") {
      this.broadcast(gapMessage(gap));
      this.cached = skipped;
    } else {
      this.save(recordGap(skipped, gap));
    }
  }

  private handleTick(tick: Tick): void {
    const record = this.cached;
    if (!record) return;
    const routed = routeTick(record, tick);
    if (routed.route === "drop") return;
    if (routed.route === "sockets") {
      const sockets = this.liveSockets();
      for (const [ws, { currencies }] of sockets) {
        if (tickConcerns(tick, currencies)) send(ws, priceMessage(tick, currencies, false));
      }
      this.rememberLive(routed.record, sockets);
      return;
    }
    this.ctx.storage.transactionSync(() => {
      this.buffer.insert(tick);
      this.save(recordGap(routed.record, this.buffer.trimTo(this.config.maxBuffer)));
    });
  }

  private handleGap(gap: SeqRange): void {
    const record = this.cached;
    if (!record) return;
    if (record.link.state === "live") this.broadcast(gapMessage(gap));
    else this.save(recordGap(record, gap));
  }

  /** The hub's history is another one: live sockets are told now, an absent client on its next socket. */
  private switchEpoch(record: SessionRecord, epoch: string, firstSeq: number): SessionRecord {
    if (record.epoch === UNKNOWN_EPOCH) {
      this.save({ ...record, epoch });
      return this.cached!;
    }
    log("session_epoch_changed", { client_id: record.clientId, from: record.epoch, to: epoch });
    if (record.link.state === "live") this.broadcast(resetMessage(epoch, record.epoch));
    this.save(this.startEpoch(record, epoch, firstSeq));
    return this.cached!;
  }

  private startEpoch(record: SessionRecord, epoch: string, firstSeq: number): SessionRecord {
    this.buffer.clear();
    return changeEpoch(record, epoch, firstSeq);
  }

  /** Client frames: subscribe/unsubscribe. Nothing a client sends can throw here or touch the buffer. */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const attachment = attachmentOf(ws);
    if (!attachment) return;
    const taken = takeToken(attachment.inbound, Date.now());
    const frame: Result<ClientMessage> = !taken.allowed
      ? fail("too_many_frames", `at most ${INBOUND_PER_SECOND} frames per second`)
      : typeof message !== "string"
        ? fail("binary_not_supported", "binary frames are not supported; send JSON text")
        : parseClientFrame(message);
    if (!frame.ok) {
      const refused = strike(taken.budget);
      ws.serializeAttachment({ ...attachment, inbound: refused.budget });
      send(ws, { type: "error", ...frame.error });
      if (refused.close) ws.close(1008, "too many refused frames");
      return;
    }
    const currencies = applySubscription(attachment.currencies, frame.value);
    ws.serializeAttachment({ ...attachment, currencies, inbound: { ...taken.budget, strikes: 0 } });
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
    return this.serially(async () => {
      // Woken by this close: the closing socket's attachment may hold the newest mark.
      const record = await this.load(ws);
      if (!record || record.link.state === "offline" || this.liveSockets(ws).length > 0) return;
      const currencies = attachmentOf(ws)?.currencies ?? record.currencies;
      await this.goneOffline(goOffline({ ...record, currencies }, Date.now()));
    });
  }

  /** The lease: renewed while a socket is open; CLIENT_TTL_S after the last one left, the purge. */
  override async alarm(): Promise<void> {
    await this.serially(async () => {
      const record = await this.load();
      const ttlMs = this.config.clientTtlS * 1000;
      const decision = onAlarm(record, this.openSockets().length, Date.now(), ttlMs);
      if (decision.action !== "purge") {
        if (decision.action === "renew" && record) this.save(record);
        await this.ctx.storage.setAlarm(decision.nextAtMs);
        return;
      }
      await this.purge(record, ttlMs);
    });
  }

  /** The client stayed away for CLIENT_TTL_S: forget it and leave the hub's list. */
  private async purge(record: SessionRecord | null, ttlMs: number): Promise<void> {
    if (record) {
      // Recorded first: if a reconnect wins the race below, it knows to subscribe again.
      this.save({ ...record, onHub: false });
      try {
        await this.hub.unsubscribe(record.clientId);
      } catch (error) {
        // The hub drops the client anyway at its next tick: this session will have no record then.
        log("session_unsubscribe_failed", { client_id: record.clientId, error: String(error) });
      }
    }
    if (this.openSockets().length > 0) {
      // A reconnect won the race: it subscribes again; keep the lease.
      await this.ctx.storage.setAlarm(Date.now() + leaseMs(ttlMs));
      return;
    }
    await this.ctx.storage.deleteAll();
    this.cached = null;
    this.buffer.forget();
    log("session_expired", { client_id: record?.clientId ?? null });
  }
}

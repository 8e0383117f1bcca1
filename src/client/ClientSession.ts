import { DurableObject } from "cloudflare:workers";
import { readConfig, type Config, type Env } from "../config";
import { HUB_NAME, type PriceHub } from "../hub/PriceHub";
import { TickTable, type TickPage } from "../hub/history";
import {
  applySubscription,
  errorMessage,
  fail,
  parseClientFrame,
  parsePricefeedQuery,
  priceMessage,
  tickConcerns,
  type ClientMessage,
  type Currency,
  type PricefeedQuery,
  type Result,
  type StatusMessage,
  type Tick,
} from "../protocol";
import type { HubEvent, ReceiveResult } from "../relay/events";
import { errorResponse } from "../http/responses";
import { log } from "../shared/log";
import { freshBudget, INBOUND_PER_SECOND, strike, takeToken } from "./inbound-limit";
import { planReplay, type DeliveryMark } from "./replay";
import { attachmentOf, send, type LiveMark, type SocketAttachment } from "./socket";

/** Everything a session must remember across hibernation and eviction. */
interface SessionState extends DeliveryMark {
  clientId: string;
  lastTick: Tick | null;
  /** Currencies of the last socket, the default for a reconnect that names none. */
  currencies: Currency[];
  status: StatusMessage;
  /** Ticks the offline buffer had to drop (bounded by MAX_BUFFER). */
  bufferGap: SeqRange | null;
  /**
   * On the hub's subscriber list. The hub keeps a client until its session is purged, so a
   * reconnect of a known client skips the hub: a reconnect storm does not queue on one object.
   * Absent in sessions stored before this field existed, which therefore subscribe once more.
   */
  onHub?: boolean;
  /** The hub history's epoch this session's seq numbers belong to (absent in sessions stored before it existed). */
  epoch?: string;
}

type SeqRange = { fromSeq: number; toSeq: number };

const mergeGap = (known: SeqRange | null, more: SeqRange): SeqRange => ({
  fromSeq: Math.min(known?.fromSeq ?? more.fromSeq, more.fromSeq),
  toSeq: Math.max(known?.toSeq ?? more.toSeq, more.toSeq),
});

/**
 * One object per client_id: holds its sockets (hibernation API), buffers the ticks it misses
 * while offline and replays them on reconnect, and forgets the client CLIENT_TTL_S after it left.
 */
export class ClientSession extends DurableObject<Env> {
  private readonly buffer: TickTable;
  /** Ticks, replays and status changes are handled one at a time, in arrival order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.buffer = new TickTable(ctx.storage.sql, "buffer");
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  private get config(): Config {
    return readConfig(this.env);
  }

  /** In memory between events; undefined after a wake until first read. */
  private cached: SessionState | null | undefined;

  private get session(): SessionState | null {
    if (this.cached === undefined) this.cached = this.recover();
    return this.cached;
  }

  private set session(next: SessionState) {
    this.cached = next;
    this.ctx.storage.kv.put("session", next);
  }

  /**
   * A live tick moves the delivery mark in memory and in the open sockets' attachments, not in
   * storage: a durable write (an fsync) per client per tick was most of the fan-out's cost.
   * Attachments survive hibernation, so a woken session rebuilds its mark from them.
   */
  private rememberLive(next: SessionState, sockets = this.attachedSockets()): void {
    this.cached = next;
    const mark: LiveMark = { deliveredSeq: next.deliveredSeq, lastTick: next.lastTick };
    for (const [ws, attachment] of sockets) ws.serializeAttachment({ ...attachment, mark });
  }

  private recover(closing: WebSocket[] = []): SessionState | null {
    const stored = this.ctx.storage.kv.get<SessionState>("session") ?? null;
    if (!stored) return null;
    let state = stored;
    for (const ws of [...this.ctx.getWebSockets(), ...closing]) {
      const mark = attachmentOf(ws)?.mark;
      if (mark && mark.deliveredSeq > state.deliveredSeq) state = { ...state, ...mark };
    }
    return state;
  }

  private get hub(): DurableObjectStub<PriceHub> {
    return this.env.PRICE_HUB.get(this.env.PRICE_HUB.idFromName(HUB_NAME));
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch((error) => log("session_task_failed", { error: String(error) }));
    return run;
  }

  private openSockets(except?: WebSocket): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws !== except && ws.readyState === WebSocket.OPEN);
  }

  /** Open sockets with their attachments, read once per event. */
  private attachedSockets(): [WebSocket, SocketAttachment][] {
    const out: [WebSocket, SocketAttachment][] = [];
    for (const ws of this.openSockets()) {
      const attachment = attachmentOf(ws);
      if (attachment) out.push([ws, attachment]);
    }
    return out;
  }

  private readySockets(): [WebSocket, SocketAttachment][] {
    return this.attachedSockets().filter(([, attachment]) => attachment.ready);
  }

  /** The Worker has validated the query; this accepts the socket and starts its replay. */
  override async fetch(request: Request): Promise<Response> {
    const parsed = parsePricefeedQuery(new URL(request.url).searchParams, Date.now());
    if (!parsed.ok) return errorResponse(400, parsed.error);
    if (parsed.value.clientId === null) return errorResponse(400, { code: "invalid_client_id", message: "client_id missing" });
    const query = parsed.value;
    const config = this.config;
    const { 0: client, 1: server } = new WebSocketPair();

    if (this.openSockets().length >= config.maxSocketsPerClient) {
      server.accept();
      send(server, errorMessage("too_many_sockets", `at most ${config.maxSocketsPerClient} sockets per client_id`));
      server.close(1008, "too many sockets for this client_id");
      return new Response(null, { status: 101, webSocket: client });
    }

    const previous = this.session;
    const currencies = query.currenciesGiven || !previous ? query.currencies : previous.currencies;
    this.ctx.acceptWebSocket(server);
    const now = Date.now();
    server.serializeAttachment({ currencies, ready: false, connectedAtMs: now, inbound: freshBudget(now) } satisfies SocketAttachment);
    this.ctx.waitUntil(
      this.serially(() =>
        this.startSocket(server, query, currencies).catch((error) => {
          // Without its replay the socket cannot promise "no gap": tell the client to come back.
          log("socket_start_failed", { error: String(error) });
          send(server, errorMessage("unavailable", "the feed could not start this connection; reconnect"));
          server.close(1011, "try again");
        }),
      ),
    );
    return new Response(null, { status: 101, webSocket: client });
  }

  /** welcome → replay (if any) → replay_end → snapshot when nothing was replayed → live. */
  private async startSocket(ws: WebSocket, query: PricefeedQuery, currencies: Currency[]): Promise<void> {
    const clientId = query.clientId!;
    const config = this.config;
    const previous = this.session;
    // Only a known client can have a purge pending; a new one skips the storage round.
    if (previous) await this.ctx.storage.deleteAlarm();
    const state = previous?.onHub && previous.epoch ? previous : await this.join(clientId, currencies, previous);
    send(ws, {
      type: "welcome",
      client_id: clientId,
      currencies,
      resumed: previous !== null,
      interval_ms: config.pollIntervalMs,
      epoch: state.epoch!,
    });

    const plan = planReplay(query, previous);
    let replayed = 0;
    if (plan.source !== "none") {
      const page = await this.replayPage(plan, config);
      const ticks = page.ticks.filter((t) => t.seq <= state.deliveredSeq);
      if (page.gap) send(ws, { type: "gap", from_seq: page.gap.fromSeq, to_seq: page.gap.toSeq });
      for (const tick of ticks) {
        if (tickConcerns(tick, currencies) && send(ws, priceMessage(tick, currencies, true))) replayed++;
      }
      send(ws, { type: "replay_end", count: replayed });
    }
    if (replayed === 0 && state.lastTick) send(ws, priceMessage(state.lastTick, currencies, false));
    // A stale or disputed feed says so right after the snapshot; live goes without saying.
    if (state.status.state !== "live") send(ws, state.status);

    // Re-read: a subscribe frame may have changed the currencies while the replay was awaited.
    const current = this.session ?? state;
    if (plan.source === "buffer") this.buffer.clear();
    this.session = {
      ...current,
      deliveredSeq: state.deliveredSeq,
      lastTick: state.lastTick,
      offlineFromSeq: null,
      offlineFromMs: null,
      bufferGap: null,
      onHub: true,
      epoch: state.epoch,
    };
    const attachment = attachmentOf(ws);
    if (attachment) ws.serializeAttachment({ ...attachment, ready: true });
    // The socket may have closed while its replay was awaited; then the client is offline again.
    if (this.openSockets().length === 0) await this.goOffline(attachment?.currencies ?? currencies);
  }

  /** Puts the client on the hub's list; a new client starts from the hub's latest tick and status. */
  private async join(clientId: string, currencies: Currency[], previous: SessionState | null): Promise<SessionState> {
    const hub = await this.hub.subscribe(clientId);
    if (previous) return { ...previous, epoch: hub.epoch };
    return (
      {
        clientId,
        deliveredSeq: hub.latest?.seq ?? 0,
        lastTick: hub.latest,
        offlineFromSeq: null,
        offlineFromMs: null,
        currencies,
        status: hub.status,
        bufferGap: null,
        epoch: hub.epoch,
      }
    );
  }

  private async replayPage(plan: Exclude<ReturnType<typeof planReplay>, { source: "none" }>, config: Config): Promise<TickPage> {
    if (plan.source === "buffer") {
      const page = "afterSeq" in plan ? this.buffer.after(plan.afterSeq, config.maxBuffer) : this.buffer.since(plan.sinceMs, config.maxBuffer);
      const dropped = this.session?.bufferGap ?? null;
      return { ticks: page.ticks, gap: dropped ?? page.gap };
    }
    return "afterSeq" in plan
      ? this.hub.ticksAfter(plan.afterSeq, config.maxReplay)
      : this.hub.ticksSince(plan.sinceMs, config.maxReplay);
  }

  /** Called by the hub (or a relay) for every published tick and status change. */
  async receive(event: HubEvent): Promise<ReceiveResult> {
    return this.serially(async () => {
      const state = this.session;
      if (!state) return { subscribed: false };
      if (event.kind === "status") {
        this.session = { ...state, status: event.status };
        for (const [ws] of this.readySockets()) send(ws, event.status);
        return { subscribed: true };
      }
      const { tick } = event;
      if (tick.seq <= state.deliveredSeq) return { subscribed: true };
      if (tick.seq > state.deliveredSeq + 1) {
        // A delivery was lost or overtaken: catch up from the hub's history so nothing is skipped.
        const missed = await this.hub.ticksAfter(state.deliveredSeq, this.config.maxBuffer);
        if (missed.gap) this.handleGap(missed.gap);
        for (const t of missed.ticks) if (t.seq < tick.seq) this.handleTick(t);
      }
      this.handleTick(tick);
      return { subscribed: true };
    });
  }

  private handleTick(tick: Tick): void {
    const state = this.session;
    if (!state || tick.seq <= state.deliveredSeq) return;
    const sockets = this.attachedSockets();
    for (const [ws, { ready, currencies }] of sockets) {
      if (ready && tickConcerns(tick, currencies)) send(ws, priceMessage(tick, currencies, false));
    }
    if (state.offlineFromSeq === null) {
      this.rememberLive({ ...state, deliveredSeq: tick.seq, lastTick: tick }, sockets);
      return;
    }
    // Offline, or a reconnect's replay has not finished yet: the buffer takes it.
    this.ctx.storage.transactionSync(() => {
      this.buffer.insert(tick);
      const dropped = this.buffer.trimTo(this.config.maxBuffer);
      this.session = {
        ...state,
        deliveredSeq: tick.seq,
        lastTick: tick,
        bufferGap: dropped ? mergeGap(state.bufferGap, dropped) : state.bufferGap,
      };
    });
  }

  private handleGap(gap: SeqRange): void {
    const state = this.session;
    if (!state) return;
    for (const [ws] of this.readySockets()) send(ws, { type: "gap", from_seq: gap.fromSeq, to_seq: gap.toSeq });
    if (state.offlineFromSeq !== null) this.session = { ...state, bufferGap: mergeGap(state.bufferGap, gap) };
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
    const state = this.session;
    if (state) this.session = { ...state, currencies };
    send(ws, { type: "subscribed", currencies });
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    // The hibernation API does not answer the client's Close frame itself: without this
    // reply the client hangs in CLOSING and reports 1006. Reserved codes cannot be sent back.
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

  private async socketGone(ws: WebSocket): Promise<void> {
    if (this.openSockets(ws).length > 0) return;
    // Woken by this close: the closing socket's attachment may hold the newest delivery mark.
    if (this.cached === undefined) this.cached = this.recover([ws]);
    const state = this.session;
    // Already offline (close and error both fired): keep the buffer's start where it is.
    if (!state || state.offlineFromSeq !== null) return;
    await this.goOffline(attachmentOf(ws)?.currencies ?? state.currencies);
  }

  /** The last socket is gone: buffering starts and the purge is scheduled. */
  private async goOffline(currencies: Currency[]): Promise<void> {
    const state = this.session;
    if (!state) return;
    const now = Date.now();
    this.session = { ...state, currencies, offlineFromSeq: state.deliveredSeq + 1, offlineFromMs: now };
    await this.ctx.storage.setAlarm(now + this.config.clientTtlS * 1000);
  }

  /** The client stayed away for CLIENT_TTL_S: forget it and stop buffering. */
  override async alarm(): Promise<void> {
    await this.serially(async () => {
      if (this.openSockets().length > 0) return;
      const state = this.session;
      if (state) {
        // Recorded first: if a reconnect wins the race below, it knows to subscribe again.
        this.session = { ...state, onHub: false };
        await this.hub.unsubscribe(state.clientId);
      }
      if (this.openSockets().length > 0) return; // a reconnect won the race: it subscribes again
      await this.ctx.storage.deleteAll();
      this.cached = null;
      this.buffer.forget();
      log("session_expired", { client_id: state?.clientId ?? null });
    });
  }
}

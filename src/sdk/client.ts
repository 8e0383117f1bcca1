/**
 * PriceFeedClient: the feed with gap-free prices as the default. It wires the transport (socket,
 * reconnect, timeouts, heartbeat), the ledger (resume, dedupe, gaps), the subscription and the
 * resume point's storage, and turns server frames into typed events.
 */
import {
  CLIENT_ID_PATTERN,
  isCompatibleProtocol,
  parseCurrencies,
  parseServerFrame,
  type Currency,
  type ServerMessage,
} from "../protocol";
import type { BackoffOptions } from "./backoff";
import { frameInfo } from "./camel-case";
import { systemClock, type Clock } from "./clock";
import { Emitter } from "./emitter";
import { refusesClient } from "./errors";
import { connecting, createLedger, step, type Ledger } from "./ledger";
import { initialStatus, sameStatus, statusOnFrame, statusOnTick, statusOnWelcome, type StatusView } from "./status";
import {
  DEFAULT_STORAGE_PREFIX,
  loadResumePoint,
  memoryStorage,
  resumePointSaver,
  type KeyValueStorage,
  type ResumePoint,
} from "./storage";
import { subscriptionDiff } from "./subscription";
import { DEFAULT_TIMING, Transport, type WebSocketConstructor } from "./transport";
import type { ConnectionState, DownReason, FeedStatus, PriceFeedEvents, StateDetail } from "./types";
import { feedUrl } from "./url";

export interface PriceFeedOptions {
  /** The feed's WebSocket URL, e.g. `ws://localhost:8787/pricefeed` (http(s) is turned into ws(s)). */
  url: string;
  /** Default `["USD"]`. */
  currencies?: readonly string[];
  /** Resume as this client; default: the stored one, else the server assigns one. */
  clientId?: string;
  /** Replay from this time (Unix seconds, `start_timedate`) on a first connection that has no last_seq. */
  from?: number;
  /** Where client_id, last_seq and epoch are kept (e.g. `localStorage`); default: memory. */
  storage?: KeyValueStorage;
  /** Key prefix in `storage`; default `"btcfeed."`. */
  storageKey?: string;
  /** Default: `globalThis.WebSocket` (browsers, Node ≥ 22). */
  WebSocket?: WebSocketConstructor;
  /** Default 10 s: an attempt without a welcome by then is abandoned and retried. */
  connectTimeoutMs?: number;
  /** Default 15 s: a connection without a frame this long sends `ping`. */
  heartbeatMs?: number;
  /** Default 10 s: no frame this long after the `ping` → the connection is dead. */
  heartbeatTimeoutMs?: number;
  /** Default 10 s: a connection that lived this long resets the backoff. */
  stableAfterMs?: number;
  /** Default `{ baseMs: 500, maxMs: 30000 }`. */
  backoff?: BackoffOptions;
  /** For tests and simulations. */
  clock?: Clock;
  random?: () => number;
}

/** Beyond twice the server's heartbeat interval: how long a silent feed gets before it counts as stalled. */
export const STALL_MARGIN_MS = 5000;

function fail(message: string): never {
  throw new TypeError(`PriceFeedClient: ${message}`);
}

function currencyList(input: readonly string[], what: string): Currency[] {
  const parsed = parseCurrencies(input);
  if (!parsed.ok) fail(`${what}: ${parsed.error.message}`);
  return parsed.value;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0)) fail(`${name} must be a positive number of milliseconds`);
  return value;
}

export class PriceFeedClient {
  private readonly events = new Emitter<PriceFeedEvents>();
  private readonly transport: Transport;
  private readonly storage: KeyValueStorage;
  private readonly save: (p: ResumePoint) => void;
  private readonly baseUrl: string;
  private from: number | null;
  private ledger: Ledger;
  private id: string | null;
  private wanted: Currency[];
  /** The open connection's set as the server last confirmed it; null while not connected. */
  private confirmed: Currency[] | null = null;
  /** A subscribe/unsubscribe frame awaits its `subscribed`: one at a time. */
  private inFlight = false;
  private connection: ConnectionState = "closed";
  private detail: StateDetail = { attempt: 0, retryAt: null, reason: null };
  private openedSinceStart = false;
  private statusView: StatusView = initialStatus;
  private dropped = 0;
  private serverProtocol: string | null = null;

  constructor(options: PriceFeedOptions) {
    if (!options || typeof options.url !== "string") fail("options.url is required");
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      fail(`url ${JSON.stringify(options.url)} is not a URL`);
    }
    if (!["ws:", "wss:", "http:", "https:"].includes(parsed.protocol))
      fail(`url must be ws:// or wss:// (got ${parsed.protocol})`);
    this.baseUrl = parsed.toString();
    this.wanted = currencyList(options.currencies ?? ["USD"], "currencies");
    if (options.clientId !== undefined && !CLIENT_ID_PATTERN.test(options.clientId)) {
      fail(
        `clientId ${JSON.stringify(String(options.clientId).slice(0, 40))} ` +
          "must be 1-64 characters of A-Z, a-z, 0-9, _ or -",
      );
    }
    if (options.from !== undefined && !(Number.isSafeInteger(options.from) && options.from >= 0)) {
      fail("from must be Unix seconds (a non-negative integer)");
    }
    this.from = options.from ?? null;
    const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (typeof WebSocketClass !== "function") {
      fail("this runtime has no global WebSocket (Node < 22?): pass options.WebSocket, e.g. the `ws` package's");
    }

    this.storage = options.storage ?? memoryStorage();
    const prefix = options.storageKey ?? DEFAULT_STORAGE_PREFIX;
    const stored = loadResumePoint(this.storage, prefix);
    // A stored last_seq belongs to the stored client: another client_id starts afresh.
    const sameClient = options.clientId === undefined || options.clientId === stored.clientId;
    this.id = options.clientId ?? stored.clientId;
    this.ledger = createLedger(sameClient ? stored : {});
    this.save = resumePointSaver(this.storage, prefix, stored);
    this.persist();

    this.transport = new Transport(
      WebSocketClass,
      {
        url: () => this.url(),
        onConnecting: (attempt) => this.onConnecting(attempt),
        onText: (text) => this.onText(text),
        onDown: (info) => this.onDown(info),
      },
      {
        connectTimeoutMs: positive(options.connectTimeoutMs, DEFAULT_TIMING.connectTimeoutMs, "connectTimeoutMs"),
        heartbeatMs: positive(options.heartbeatMs, DEFAULT_TIMING.heartbeatMs, "heartbeatMs"),
        heartbeatTimeoutMs: positive(
          options.heartbeatTimeoutMs,
          DEFAULT_TIMING.heartbeatTimeoutMs,
          "heartbeatTimeoutMs",
        ),
        stableAfterMs: positive(options.stableAfterMs, DEFAULT_TIMING.stableAfterMs, "stableAfterMs"),
        backoff: options.backoff ?? DEFAULT_TIMING.backoff,
      },
      options.clock ?? systemClock,
      options.random ?? Math.random,
    );
  }

  // ---- the public surface --------------------------------------------------------------

  on<K extends keyof PriceFeedEvents>(name: K, listener: PriceFeedEvents[K]): () => void {
    return this.events.on(name, listener);
  }

  off<K extends keyof PriceFeedEvents>(name: K, listener: PriceFeedEvents[K]): void {
    this.events.off(name, listener);
  }

  /** Opens the feed and keeps it open (reconnecting) until `close()`. */
  start(): void {
    if (this.transport.active) return;
    this.openedSinceStart = false;
    this.transport.start();
  }

  /** Closes the feed; `start()` resumes it where it stopped. */
  close(): void {
    // The transport reports the stop (state "closed", reason "stopped") if it was running.
    this.transport.stop();
  }

  /** Skips the wait of a pending reconnect. */
  retryNow(): void {
    this.transport.retryNow();
  }

  subscribe(currencies: readonly string[]): void {
    const add = currencyList(currencies, "subscribe");
    this.wanted = [...this.wanted, ...add.filter((c) => !this.wanted.includes(c))];
    this.reconcile();
  }

  unsubscribe(currencies: readonly string[]): void {
    const remove = currencyList(currencies, "unsubscribe");
    const rest = this.wanted.filter((c) => !remove.includes(c));
    if (rest.length === 0) fail("unsubscribe would leave no currency; a feed keeps at least one");
    this.wanted = rest;
    this.reconcile();
  }

  /** Highest seq accounted for (delivered or announced as a gap); what a resume asks after. */
  get lastSeq(): number | null {
    return this.ledger.lastSeq;
  }

  get clientId(): string | null {
    return this.id;
  }

  get epoch(): string | null {
    return this.ledger.epoch;
  }

  /** The currencies asked for (the server confirms them with `subscribed`). */
  get currencies(): Currency[] {
    return [...this.wanted];
  }

  get state(): ConnectionState {
    return this.connection;
  }

  /** The last status the server stated (null: none yet, which the server means as live). */
  get status(): FeedStatus | null {
    return this.statusView.status;
  }

  /**
   * The protocol version (`MAJOR.MINOR`) the server named in its last welcome; null before one. When
   * its major version is not this library's (PROTOCOL_VERSION), the feed closed with reason
   * `unsupported_protocol` instead of interpreting the server's frames.
   */
  get protocol(): string | null {
    return this.serverProtocol;
  }

  /** Price frames dropped as duplicates or out of order (seq at or below lastSeq). */
  get duplicatesDropped(): number {
    return this.dropped;
  }

  // ---- transport → events --------------------------------------------------------------

  private url(): string {
    return feedUrl(this.baseUrl, {
      currencies: this.wanted,
      clientId: this.id,
      lastSeq: this.ledger.lastSeq,
      epoch: this.ledger.epoch,
      from: this.from,
    });
  }

  private onConnecting(attempt: number): void {
    this.ledger = connecting(this.ledger);
    this.confirmed = null;
    this.inFlight = false;
    this.setState(this.openedSinceStart || attempt > 0 ? "reconnecting" : "connecting", {
      attempt,
      retryAt: null,
      reason: null,
    });
  }

  private onDown(info: { reason: DownReason; retryAt: number | null; attempt: number }): void {
    this.confirmed = null;
    this.inFlight = false;
    if (info.retryAt === null) this.setState("closed", { attempt: 0, retryAt: null, reason: info.reason });
    else this.setState("reconnecting", { attempt: info.attempt, retryAt: info.retryAt, reason: info.reason });
  }

  private onText(text: string): void {
    const msg = parseServerFrame(text);
    if (msg) this.onFrame(msg);
  }

  private onFrame(msg: ServerMessage): void {
    switch (msg.type) {
      case "welcome":
        this.serverProtocol = msg.protocol;
        if (!isCompatibleProtocol(msg.protocol)) {
          // Frames of an unknown major version may mean other things: none is interpreted, the
          // resume point stays as it was (an upgraded library resumes from it), and retrying would
          // meet the same server.
          this.transport.stop("unsupported_protocol");
          return;
        }
        this.transport.welcomed(msg.heartbeat_s > 0 ? 2 * msg.heartbeat_s * 1000 + STALL_MARGIN_MS : null);
        this.id = msg.client_id;
        this.confirmed = [...msg.currencies];
        this.openedSinceStart = true;
        this.statusView = statusOnWelcome(this.statusView);
        this.events.emit("welcome", { ...frameInfo(msg), currencies: [...msg.currencies] });
        this.setState("open", { attempt: 0, retryAt: null, reason: null });
        this.applyLedger(msg);
        this.events.emit("subscribed", [...msg.currencies]);
        this.reconcile();
        return;
      case "price":
      case "gap":
      case "replay_end":
      case "reset":
        this.applyLedger(msg);
        return;
      case "heartbeat":
        this.events.emit("heartbeat", frameInfo(msg));
        this.applyLedger(msg);
        return;
      case "subscribed":
        this.confirmed = [...msg.currencies];
        this.inFlight = false;
        this.events.emit("subscribed", [...msg.currencies]);
        this.reconcile();
        return;
      case "status":
        this.setStatus(statusOnFrame(this.statusView, msg));
        return;
      case "error":
        // A refused subscription change: the next subscribed/welcome says where we are.
        this.inFlight = false;
        this.events.emit("error", frameInfo(msg));
        // A refused client: the same attempt again would be refused again; start() tries once more.
        if (refusesClient(msg.code)) this.transport.stop("rejected");
        return;
    }
  }

  private applyLedger(msg: ServerMessage): void {
    const [next, outputs] = step(this.ledger, msg);
    this.ledger = next;
    if (next.lastSeq !== null) this.from = null;
    // Saved before the events: a crash in a listener must not make a tick fire twice.
    this.persist();
    for (const out of outputs) {
      switch (out.kind) {
        case "price":
          this.events.emit("price", out.tick);
          this.setStatus(statusOnTick(this.statusView, out.tick));
          break;
        case "gap":
          this.events.emit("gap", out.range);
          break;
        case "reset":
          this.from = null;
          this.events.emit("reset", out.info);
          break;
        case "replay_end":
          this.events.emit("replay", { count: out.count });
          break;
        case "duplicate":
          this.dropped++;
          break;
        case "hole":
          this.transport.reconnect("hole");
          break;
      }
    }
  }

  private setStatus(next: StatusView): void {
    const before = this.statusView.status;
    this.statusView = next;
    if (next.status !== null && !sameStatus(before, next.status)) this.events.emit("status", next.status);
  }

  private setState(state: ConnectionState, detail: StateDetail): void {
    const same =
      state === this.connection && detail.attempt === this.detail.attempt && detail.retryAt === this.detail.retryAt;
    if (same && detail.reason === this.detail.reason) return;
    this.connection = state;
    this.detail = detail;
    this.events.emit("state", state, { ...detail });
  }

  private reconcile(): void {
    if (this.inFlight || this.confirmed === null || !this.transport.ready) return;
    const [next] = subscriptionDiff(this.wanted, this.confirmed);
    if (next && this.transport.send(JSON.stringify(next))) this.inFlight = true;
  }

  private persist(): void {
    this.save({ clientId: this.id, lastSeq: this.ledger.lastSeq, epoch: this.ledger.epoch });
  }
}

/**
 * One WebSocket at a time to the feed, kept open while wanted: reconnects with exponential backoff
 * and full jitter, gives up on an attempt that does not get its welcome in time (a restarting
 * server can accept the TCP connection and never answer), and detects a dead connection with the
 * `ping`/`pong` heartbeat (answered by the runtime without waking the session object).
 */
import { backoffDelay, type BackoffOptions } from "./backoff";
import type { Clock } from "./clock";
import type { DownReason } from "./types";

/** The part of the WebSocket API the transport uses (browsers, Node ≥ 22, the `ws` package). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code?: number; reason?: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket class: the global one, `ws`'s, or a test's fake. */
export type WebSocketConstructor = new (url: string) => object;

const OPEN = 1;

export interface TransportTiming {
  /** From creating the socket to the server's welcome. */
  connectTimeoutMs: number;
  /** No frame for this long → send `ping`. */
  heartbeatMs: number;
  /** No frame for this long after a `ping` → the connection is dead. */
  heartbeatTimeoutMs: number;
  /** A connection that lived this long after its welcome resets the backoff. */
  stableAfterMs: number;
  backoff: BackoffOptions;
}

export const DEFAULT_TIMING: TransportTiming = {
  connectTimeoutMs: 10_000,
  heartbeatMs: 15_000,
  heartbeatTimeoutMs: 10_000,
  stableAfterMs: 10_000,
  backoff: { baseMs: 500, maxMs: 30_000 },
};

export interface TransportHandlers {
  /** The URL for this attempt, built fresh (it carries the latest last_seq). */
  url(): string;
  onConnecting(attempt: number): void;
  onText(text: string): void;
  /** The socket is gone; retryAt is when the next attempt starts, null when none will. */
  onDown(info: { reason: DownReason; retryAt: number | null; attempt: number }): void;
}

export class Transport {
  private ws: WebSocketLike | null = null;
  private wanted = false;
  /** Failed attempts since the last stable connection: the backoff exponent. */
  private failures = 0;
  private welcomedAt: number | null = null;
  private retryTimer: unknown = null;
  private connectTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private stallTimer: unknown = null;
  /** Set by the welcome of a server that sends heartbeats: silence this long means the feed stalled. */
  private stallAfterMs: number | null = null;

  constructor(
    private readonly WebSocketClass: WebSocketConstructor,
    private readonly handlers: TransportHandlers,
    private readonly timing: TransportTiming,
    private readonly clock: Clock,
    private readonly random: () => number,
  ) {}

  /** A socket is open and has had its welcome. */
  get ready(): boolean {
    return this.ws !== null && this.welcomedAt !== null && this.ws.readyState === OPEN;
  }

  get active(): boolean {
    return this.wanted;
  }

  start(): void {
    this.wanted = true;
    this.failures = 0;
    this.clearRetry();
    if (!this.ws) this.connect();
  }

  /** Connects at once if an attempt is waiting for its backoff (e.g. the browser came back online). */
  retryNow(): void {
    if (this.wanted && !this.ws) {
      this.clearRetry();
      this.connect();
    }
  }

  /** Closes the socket and stays closed (no retry until start()); `reason` is what onDown reports. */
  stop(reason: Extract<DownReason, "stopped" | "unsupported_protocol" | "rejected"> = "stopped"): void {
    const wasActive = this.wanted || this.ws !== null;
    this.wanted = false;
    this.clearRetry();
    const ws = this.detach();
    if (ws) closeQuietly(ws, 1000, reason === "stopped" ? "closed by the client" : reason);
    if (wasActive) this.handlers.onDown({ reason, retryAt: null, attempt: 0 });
  }

  /**
   * The server's welcome arrived: the attempt succeeded. `stallAfterMs`: from a server that sends
   * heartbeats, how long the feed may be silent (no frame but `pong`) before it counts as stalled.
   */
  welcomed(stallAfterMs: number | null = null): void {
    if (!this.ws) return;
    this.welcomedAt = this.clock.now();
    this.clearTimer("connectTimer");
    this.stallAfterMs = stallAfterMs;
    this.armStall();
  }

  /** Lets go of the connection and reconnects (with the usual backoff), e.g. to resume after a hole. */
  reconnect(reason: Extract<DownReason, "hole">): void {
    if (this.ws) this.lost(reason);
  }

  send(text: string): boolean {
    if (!this.ready) return false;
    try {
      this.ws!.send(text);
      return true;
    } catch {
      return false;
    }
  }

  private connect(): void {
    this.welcomedAt = null;
    this.handlers.onConnecting(this.failures);
    // A handler may have stopped us.
    if (!this.wanted || this.ws) return;
    let ws: WebSocketLike;
    try {
      ws = new this.WebSocketClass(this.handlers.url()) as WebSocketLike;
    } catch {
      this.lost("refused");
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws === ws) this.armHeartbeat();
    };
    ws.onmessage = (event) => {
      if (this.ws !== ws) return;
      this.armHeartbeat();
      if (typeof event.data === "string" && event.data !== "pong") {
        // `pong` comes from the runtime even when the feed behind it is stuck: only frames count here.
        this.armStall();
        this.handlers.onText(event.data);
      }
    };
    ws.onclose = () => {
      if (this.ws === ws) this.lost("closed");
    };
    // An error is followed by close; the handler stays so that `ws` never throws an unhandled 'error'.
    ws.onerror = () => {};
    this.connectTimer = this.clock.setTimeout(() => {
      this.connectTimer = null;
      if (this.ws === ws) this.lost("connect_timeout");
    }, this.timing.connectTimeoutMs);
  }

  private armHeartbeat(): void {
    const ws = this.ws;
    this.clearTimer("heartbeatTimer");
    this.heartbeatTimer = this.clock.setTimeout(() => {
      if (this.ws !== ws || !ws) return;
      // Armed before the ping goes out: any frame, `pong` included, re-arms the heartbeat.
      this.heartbeatTimer = this.clock.setTimeout(() => {
        this.heartbeatTimer = null;
        if (this.ws === ws) this.lost("heartbeat_timeout");
      }, this.timing.heartbeatTimeoutMs);
      try {
        if (ws.readyState === OPEN) ws.send("ping");
      } catch {
        // close follows
      }
    }, this.timing.heartbeatMs);
  }

  private armStall(): void {
    this.clearTimer("stallTimer");
    const ws = this.ws;
    if (this.stallAfterMs === null || !ws) return;
    this.stallTimer = this.clock.setTimeout(() => {
      this.stallTimer = null;
      if (this.ws === ws) this.lost("stalled");
    }, this.stallAfterMs);
  }

  private lost(reason: DownReason): void {
    const stable = this.welcomedAt !== null && this.clock.now() - this.welcomedAt >= this.timing.stableAfterMs;
    const ws = this.detach();
    // A hung handshake or a dead connection: let go of it (its close handshake may never finish).
    if (ws && reason !== "closed") closeQuietly(ws, 4000, reason);
    if (!this.wanted) return;
    if (stable) this.failures = 0;
    const delay = backoffDelay(this.failures, this.timing.backoff, this.random);
    this.failures++;
    const retryAt = this.clock.now() + delay;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      if (this.wanted && !this.ws) this.connect();
    }, delay);
    this.handlers.onDown({ reason, retryAt, attempt: this.failures });
  }

  private detach(): WebSocketLike | null {
    const ws = this.ws;
    this.ws = null;
    this.welcomedAt = null;
    this.clearTimer("connectTimer");
    this.clearTimer("heartbeatTimer");
    this.clearTimer("stallTimer");
    this.stallAfterMs = null;
    if (ws) {
      ws.onopen = null;
      ws.onmessage = null;
      ws.onclose = null;
      ws.onerror = () => {};
    }
    return ws;
  }

  private clearRetry(): void {
    this.clearTimer("retryTimer");
  }

  private clearTimer(name: "retryTimer" | "connectTimer" | "heartbeatTimer" | "stallTimer"): void {
    if (this[name] !== null) this.clock.clearTimeout(this[name]);
    this[name] = null;
  }
}

function closeQuietly(ws: WebSocketLike, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closing, or a code this implementation refuses
  }
}

/**
 * The WebSocket to /pricefeed: opens it, reconnects with exponential backoff while the
 * user wants it open, and detects a dead connection with the `ping`/`pong` heartbeat
 * (answered by the runtime without waking the session object).
 */
import type { ClientMessage, ServerMessage } from "../protocol";
import { backoffDelay } from "./backoff";
import { parseServerFrame } from "../protocol";

export interface FeedHandlers {
  /** The URL for the next attempt (built fresh each time, so it carries the latest last_seq). */
  url(): string;
  onConnecting(): void;
  onFrame(msg: ServerMessage): void;
  /** The socket is gone; retryAt is when the next attempt starts, null when none will. */
  onDown(retryAt: number | null): void;
}

export interface FeedTiming {
  heartbeatMs: number;
  /** No frame (not even `pong`) for this long → the connection is treated as dead. */
  deadAfterMs: number;
  /** A connection that lived this long resets the backoff. */
  stableAfterMs: number;
}

const DEFAULT_TIMING: FeedTiming = { heartbeatMs: 20_000, deadAfterMs: 45_000, stableAfterMs: 10_000 };

export class Feed {
  private ws: WebSocket | null = null;
  private wanted = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private lastRx = 0;
  private openedAt = 0;
  private welcomed = false;

  constructor(
    private readonly handlers: FeedHandlers,
    private readonly timing: FeedTiming = DEFAULT_TIMING,
  ) {}

  get isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.welcomed;
  }

  get isWanted(): boolean {
    return this.wanted;
  }

  open(): void {
    this.wanted = true;
    this.attempt = 0;
    this.clearRetry();
    if (!this.ws) this.connect();
  }

  /** Reconnects at once if a retry is pending (e.g. the browser came back online). */
  retryNow(): void {
    if (this.wanted && !this.ws) {
      this.clearRetry();
      this.connect();
    }
  }

  close(): void {
    this.wanted = false;
    this.clearRetry();
    const ws = this.ws;
    this.drop();
    if (ws) {
      try {
        ws.close(1000, "closed by user");
      } catch {
        // already closing
      }
    }
    this.handlers.onDown(null);
  }

  send(msg: ClientMessage): boolean {
    if (!this.isOpen) return false;
    try {
      this.ws!.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  private connect(): void {
    let ws: WebSocket;
    this.welcomed = false;
    this.handlers.onConnecting();
    try {
      ws = new WebSocket(this.handlers.url());
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.openedAt = Date.now();
    this.lastRx = this.openedAt;
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastRx = Date.now();
      if (typeof ev.data !== "string" || ev.data === "pong") return;
      const msg = parseServerFrame(ev.data);
      if (!msg) return;
      if (msg.type === "welcome") this.welcomed = true;
      this.handlers.onFrame(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.lost();
    };
    // An error is always followed by close.
    ws.onerror = () => {};
    this.heartbeat = setInterval(() => this.beat(ws), this.timing.heartbeatMs);
  }

  private beat(ws: WebSocket): void {
    if (this.ws !== ws) return;
    if (Date.now() - this.lastRx > this.timing.deadAfterMs) {
      try {
        ws.close(4000, "heartbeat timeout");
      } catch {
        // ignore
      }
      this.lost();
      return;
    }
    if (ws.readyState === WebSocket.OPEN) {
      try {
        ws.send("ping");
      } catch {
        // close follows
      }
    }
  }

  private lost(): void {
    const stable = this.welcomed && Date.now() - this.openedAt >= this.timing.stableAfterMs;
    this.drop();
    if (!this.wanted) return;
    if (stable) this.attempt = 0;
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    const delay = backoffDelay(this.attempt++);
    const retryAt = Date.now() + delay;
    this.handlers.onDown(retryAt);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.wanted && !this.ws) this.connect();
    }, delay);
  }

  private drop(): void {
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (ws) {
      ws.onmessage = null;
      ws.onclose = null;
      ws.onerror = null;
    }
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

import type { Currency, ServerMessage } from "../protocol";
import type { InboundBudget } from "./inbound-limit";
import type { LiveMark } from "./session-state";

/** Per-socket state, kept in the socket's attachment so it survives hibernation (not a restart). */
export interface SocketAttachment {
  currencies: Currency[];
  /** False until the socket has had its welcome and replay; live ticks skip it until then. */
  ready: boolean;
  connectedAtMs: number;
  inbound: InboundBudget;
  /** The session's mark as of the last live tick: a hibernated session rebuilds its record from it. */
  mark?: LiveMark;
  /** When the socket was last sent a price or a heartbeat (absent: since it connected). */
  lastSentAtMs?: number;
}

const REFUSED = "refused";

/** Sends a frame if the socket is still open; a socket closing under us is not an error. */
export function send(ws: WebSocket, message: ServerMessage): boolean {
  return sendText(ws, JSON.stringify(message));
}

/** `send` for a frame already stringified (src/session/frame-text.ts). */
export function sendText(ws: WebSocket, text: string): boolean {
  if (ws.readyState !== WebSocket.OPEN) return false;
  try {
    ws.send(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A session's sockets, accepted with the hibernation API: the one place their attachments are read and
 * changed. The attachment is the only per-socket memory that survives hibernation.
 */
export class Connections {
  /** The attachments as last written by this instance: read back every event, deserialized once per wake. */
  private readonly kept = new WeakMap<WebSocket, SocketAttachment>();

  /**
   * The sockets the runtime holds for this object, listed from it once per wake and kept up to date
   * here: a session asks for its sockets at every event, and asking the runtime costs a call each time.
   */
  private listed: Set<WebSocket> | null = null;

  constructor(private readonly ctx: DurableObjectState) {}

  private get sockets(): Set<WebSocket> {
    this.listed ??= new Set(this.ctx.getWebSockets());
    return this.listed;
  }

  accept(ws: WebSocket, attachment: SocketAttachment): void {
    this.ctx.acceptWebSocket(ws);
    this.sockets.add(ws);
    ws.serializeAttachment(attachment);
    this.kept.set(ws, attachment);
  }

  /** The runtime has handled the socket's close or error: it is no longer the session's. */
  forget(ws: WebSocket): void {
    this.sockets.delete(ws);
  }

  /**
   * Refuses a socket with an error frame and a close. Accepted with the hibernation API too: a plain
   * `accept()` would keep the object awake (and billed) until the client answered the close.
   */
  refuse(ws: WebSocket, message: ServerMessage, code: number, reason: string): void {
    this.ctx.acceptWebSocket(ws, [REFUSED]);
    this.sockets.add(ws);
    send(ws, message);
    ws.close(code, reason);
  }

  /** A socket refused at its upgrade: it never belonged to the session. */
  isRefused(ws: WebSocket): boolean {
    return this.ctx.getTags(ws).includes(REFUSED);
  }

  attachment(ws: WebSocket): SocketAttachment | null {
    const kept = this.kept.get(ws);
    if (kept) return kept;
    try {
      const stored = (ws.deserializeAttachment() as SocketAttachment | null) ?? null;
      if (stored) this.kept.set(ws, stored);
      return stored;
    } catch {
      return null;
    }
  }

  /** Changes some fields of a socket's attachment; a socket without one (closed) is left alone. */
  update(ws: WebSocket, change: Partial<SocketAttachment>): SocketAttachment | null {
    const current = this.attachment(ws);
    if (!current) return null;
    const next = { ...current, ...change };
    try {
      ws.serializeAttachment(next);
    } catch {
      return null; // closed meanwhile
    }
    this.kept.set(ws, next);
    return next;
  }

  /** Every socket, including one closing now (it is still in the list while its close is handled). */
  all(): WebSocket[] {
    return [...this.sockets];
  }

  open(except?: WebSocket): WebSocket[] {
    const out: WebSocket[] = [];
    for (const ws of this.sockets) if (ws !== except && ws.readyState === WebSocket.OPEN) out.push(ws);
    return out;
  }

  /** Open sockets that have had their welcome and replay, with their attachments. */
  live(except?: WebSocket): [WebSocket, SocketAttachment][] {
    const out: [WebSocket, SocketAttachment][] = [];
    for (const ws of this.open(except)) {
      const attachment = this.attachment(ws);
      if (attachment?.ready) out.push([ws, attachment]);
    }
    return out;
  }

  /** Sends a frame to every live socket; returns how many got it. */
  broadcast(message: ServerMessage): number {
    let sent = 0;
    for (const [ws] of this.live()) if (send(ws, message)) sent++;
    return sent;
  }
}

import type { Currency, ServerMessage, Tick } from "../protocol";
import type { InboundBudget } from "./inbound-limit";

/** Per-socket state, kept in the socket's attachment so it survives hibernation. */
export interface SocketAttachment {
  currencies: Currency[];
  /** False until the socket has had its welcome and replay; live ticks skip it until then. */
  ready: boolean;
  connectedAtMs: number;
  inbound: InboundBudget;
  /** The session's delivery mark as of the last live tick (see ClientSession.rememberLive). */
  mark?: LiveMark;
}

export interface LiveMark {
  deliveredSeq: number;
  lastTick: Tick | null;
}

export function attachmentOf(ws: WebSocket): SocketAttachment | null {
  try {
    return (ws.deserializeAttachment() as SocketAttachment | null) ?? null;
  } catch {
    return null;
  }
}

/** Sends a frame if the socket is still open; a socket closing under us is not an error. */
export function send(ws: WebSocket, message: ServerMessage): boolean {
  if (ws.readyState !== WebSocket.OPEN) return false;
  try {
    ws.send(JSON.stringify(message));
    return true;
  } catch {
    return false;
  }
}

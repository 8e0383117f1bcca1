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

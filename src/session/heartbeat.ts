import type { SocketAttachment } from "./connections";

/**
 * Whether a socket is owed a heartbeat: it was sent nothing for `heartbeatS` seconds. A socket whose
 * currencies did not move hears nothing from the ticks that move the others: this is what tells its
 * client that the feed is alive, without a timer in the session (which would keep it from hibernating).
 */
export function heartbeatDue(
  socket: Pick<SocketAttachment, "lastSentAtMs" | "connectedAtMs">,
  nowMs: number,
  heartbeatS: number,
): boolean {
  return nowMs - (socket.lastSentAtMs ?? socket.connectedAtMs) >= heartbeatS * 1000;
}

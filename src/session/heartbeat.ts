import type { SocketAttachment } from "./connections";

type SentTimes = Pick<SocketAttachment, "lastSentAtMs" | "connectedAtMs">;

const quietMs = (socket: SentTimes, nowMs: number) => nowMs - (socket.lastSentAtMs ?? socket.connectedAtMs);

/**
 * Whether a socket is owed a heartbeat: it was sent nothing for `heartbeatS` seconds. A socket whose
 * currencies did not move hears nothing from the ticks that move the others: this is what tells its
 * client that the feed is alive, without a timer in the session (which would keep it from hibernating).
 */
export function heartbeatDue(socket: SentTimes, nowMs: number, heartbeatS: number): boolean {
  return quietMs(socket, nowMs) >= heartbeatS * 1000;
}

/**
 * Whether a beat from the shard earns a socket a heartbeat. The shard passes a beat on after
 * `heartbeatS` of quiet by its own clock, which runs a delivery ahead of the session's: a strict count
 * could miss it and leave the socket silent until the next one, twice as long. But a beat also comes
 * to catch a member up, or after a hole closed, right after prices: then a socket sent something within
 * the last half interval waits for the next quiet beat (silent less than 1.5 × `heartbeatS` in all).
 */
export function beatDue(socket: SentTimes, nowMs: number, heartbeatS: number): boolean {
  return quietMs(socket, nowMs) >= (heartbeatS * 1000) / 2;
}

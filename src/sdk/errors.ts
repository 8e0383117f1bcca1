/**
 * What an `error` frame means for the connection. Most are about one frame or one moment (a
 * subscription refused, a busy server that closes the socket to be asked again): the feed goes
 * on, or reconnects. A few refuse the client itself: asking again the same way gets the same
 * answer, so the client stops and says why instead of retrying in a loop.
 */
import type { ErrorCode } from "../protocol";

/** too_many_sockets: the server already has its maximum of sockets open for this client_id. */
const REFUSES_CLIENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["too_many_sockets"]);

export function refusesClient(code: ErrorCode): boolean {
  return REFUSES_CLIENT.has(code);
}

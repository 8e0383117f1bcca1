/**
 * A new session costs an object, a registration with its shard and its storage: new sessions are
 * limited per address (IPv6 per /64). A known client resuming costs little and is limited per
 * client_id instead (by its session, upgrade-window.ts), so an office behind one address comes back
 * after a deploy. Whether a session is new only its object knows (it has no stored record); an upgrade
 * without client_id is new for sure, and the Worker counts it before any object is made.
 */
import { addressKey, clientIp } from "./address";
import { NEW_SESSIONS, rateLimited } from "./rate-limit";

/**
 * Set by the Worker on the upgrade it forwards when it has counted the new session itself (it
 * made up the client_id). The Worker removes any client's copy first: only it can reach a session.
 */
export const NEW_SESSION_COUNTED = "X-Pricefeed-New-Session-Counted";

/**
 * Counts a new session against its address: the 429 to answer, or null to go on. Called by the
 * Worker for an upgrade without client_id and by a session that has no record; keyed from the
 * request's `CF-Connecting-IP`, which the Worker forwards to the session unchanged.
 */
export function admitNewSession(env: Env, request: Request): Promise<Response | null> {
  if (request.headers.get(NEW_SESSION_COUNTED) !== null) return Promise.resolve(null);
  return rateLimited(NEW_SESSIONS, env, addressKey(clientIp(request)));
}

import { parsePricefeedQuery, wantsEventStream } from "../protocol";
import { DEPTH_HINT_HEADER, parseDepthHint, SHARD_DEPTH_HEADER, UNKNOWN_DEPTH_GUESS } from "../session/registration";
import { randomId } from "../shared/random-id";
import { errorResponse } from "../shared/responses";
import { sessionStub } from "../stubs";
import { admitNewSession, NEW_SESSION_COUNTED } from "../limits/new-session";
import { eventStreamFrom, sessionUpgradeFor } from "./event-stream";

/**
 * The depth of the fan-out tree's leaves, as the last known session of this isolate reported it: a new
 * session starts looking for its shard there rather than at the root (docs/design/fanout.md). Until an
 * isolate has seen one, it guesses a level below the root's children: at scale a guess that is too
 * shallow goes down a level or two, one too deep climbs, and neither touches the root.
 */
let depthHint = UNKNOWN_DEPTH_GUESS;

/**
 * A WebSocket upgrade, or an event stream (docs/protocol.md): both go to the client's session object.
 * Validates the upgrade and hands it to the client's session object: without client_id it is a new
 * session, counted here per address; with one, its session counts it per client_id, and per address
 * too if it turns out new. The 101 response is returned untouched: rebuilding it would drop its webSocket.
 */
export async function handlePricefeed(request: Request, env: Env): Promise<Response> {
  if (request.headers.get("Upgrade")?.toLowerCase() === "websocket") return openSession(request, env);
  if (wantsEventStream(request.headers.get("Accept"))) {
    return eventStreamFrom(await openSession(sessionUpgradeFor(request), env));
  }
  return errorResponse(
    426,
    { code: "upgrade_required", message: "GET /pricefeed needs Upgrade: websocket, or Accept: text/event-stream" },
    { Upgrade: "websocket" },
  );
}

async function openSession(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  const query = parsePricefeedQuery(url.searchParams, Date.now());
  if (!query.ok) return errorResponse(400, query.error);
  const given = query.value.clientId;
  const clientId = given ?? randomId(16); // 128 bits: the key to a buffer must not be guessable
  if (given === null) url.searchParams.set("client_id", clientId);
  const forwarded = new Request(url, request);
  forwarded.headers.delete(NEW_SESSION_COUNTED);
  if (given === null) {
    const refused = await admitNewSession(env, forwarded);
    if (refused) return refused;
    forwarded.headers.set(NEW_SESSION_COUNTED, "1");
  }
  forwarded.headers.set(DEPTH_HINT_HEADER, String(depthHint));
  const response = await sessionStub(env, clientId).fetch(forwarded);
  const depth = response.headers.get(SHARD_DEPTH_HEADER);
  if (depth !== null) depthHint = parseDepthHint(depth);
  // Returned untouched: rebuilding a 101 drops its webSocket.
  return response;
}

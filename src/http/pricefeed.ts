import { parsePricefeedQuery } from "../protocol";
import { randomId } from "../shared/random-id";
import { sessionStub } from "../stubs";
import { errorResponse } from "../shared/responses";

/**
 * Validates the upgrade and hands it to the client's session object. The 101 response
 * is returned untouched: rebuilding it would drop its webSocket.
 */
export async function handlePricefeed(request: Request, env: Env): Promise<Response> {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
    return errorResponse(
      426,
      { code: "upgrade_required", message: "GET /pricefeed needs Upgrade: websocket" },
      { Upgrade: "websocket" },
    );
  }
  const url = new URL(request.url);
  const query = parsePricefeedQuery(url.searchParams, Date.now());
  if (!query.ok) return errorResponse(400, query.error);
  const clientId = query.value.clientId ?? randomId(16); // 128 bits: the key to a buffer must not be guessable
  url.searchParams.set("client_id", clientId);
  return sessionStub(env, clientId).fetch(new Request(url, request));
}

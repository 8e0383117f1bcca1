import type { Env } from "../config";
import { parsePricefeedQuery } from "../protocol";
import { generateClientId } from "./client-id";
import { errorResponse } from "./responses";

/**
 * Validates the upgrade and hands it to the client's session object. The 101 response
 * is returned untouched: rebuilding it would drop its webSocket.
 */
export async function handlePricefeed(request: Request, env: Env): Promise<Response> {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
    return errorResponse(426, { code: "upgrade_required", message: "GET /pricefeed needs Upgrade: websocket" }, { Upgrade: "websocket" });
  }
  const url = new URL(request.url);
  const query = parsePricefeedQuery(url.searchParams, Date.now());
  if (!query.ok) return errorResponse(400, query.error);
  const clientId = query.value.clientId ?? generateClientId();
  url.searchParams.set("client_id", clientId);
  const session = env.CLIENT_SESSION.get(env.CLIENT_SESSION.idFromName(clientId));
  return session.fetch(new Request(url, request));
}

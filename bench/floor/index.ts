/**
 * The floor worker (bench/README.md, "The floor"): the feed's topology — a hub with an alarm loop,
 * the same shard tree (src/relay/topology.ts), one object per client — doing nothing but forwarding
 * one frame per tick. `npm run bench` measures the feed against it.
 */
import { client, type FloorEnv, hub } from "./env";

export { FloorClient } from "./client";
export { FloorHub } from "./hub";
export { FloorShard } from "./shard";

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json(await hub(env).health());
    if (url.pathname !== "/pricefeed") return new Response("not found", { status: 404 });
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("GET /pricefeed needs Upgrade: websocket", { status: 426 });
    }
    const clientId = url.searchParams.get("client_id");
    if (!clientId) return new Response("client_id missing", { status: 400 });
    // The 101 is returned untouched: rebuilding it would drop its webSocket.
    return client(env, clientId).fetch(request);
  },
} satisfies ExportedHandler<FloorEnv>;

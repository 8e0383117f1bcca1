/**
 * One floor object per client: accepts the socket with the hibernation API, registers with its leaf
 * once (walking down from the root), and forwards each frame to its sockets. No record, no buffer,
 * no replay: the least a client object can do.
 */
import { DurableObject } from "cloudflare:workers";
import { welcomeMessage } from "../../src/protocol";
import { ROOT } from "../../src/relay/topology";
import { type FloorClientApi, type FloorEnv, pollIntervalMs, shard } from "./env";

export class FloorClient extends DurableObject<FloorEnv> implements FloorClientApi {
  override async fetch(request: Request): Promise<Response> {
    const clientId = new URL(request.url).searchParams.get("client_id") ?? "";
    const { 0: socket, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const known = this.ctx.storage.kv.get<string>("leaf") !== undefined;
    server.send(
      JSON.stringify(
        welcomeMessage({
          client_id: clientId,
          currencies: ["USD"],
          resumed: known,
          interval_ms: pollIntervalMs(this.env),
          epoch: "floor",
          heartbeat_s: 0,
        }),
      ),
    );
    if (!known) this.ctx.storage.kv.put("leaf", await this.register(clientId));
    return new Response(null, { status: 101, webSocket: socket });
  }

  /** From the root down: a split shard answers with the child on the client's path. */
  private async register(clientId: string): Promise<string> {
    let prefix = ROOT;
    for (;;) {
      const answer = await shard(this.env, prefix).register(prefix, clientId);
      if ("leaf" in answer) return answer.leaf;
      prefix = answer.moved;
    }
  }

  async receive(frame: string): Promise<boolean> {
    let sent = false;
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(frame);
        sent = true;
      } catch {
        // closing: the next frame finds it gone
      }
    }
    return sent;
  }
}

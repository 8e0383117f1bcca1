/**
 * One floor object per client: accepts the socket with the hibernation API, registers with its leaf
 * once (walking down from the root), and forwards each frame to its sockets. No record, no buffer,
 * no replay: the least a client object can do.
 *
 * The resuming floor (FLOOR_RESUME=1) adds the least the feed's contract asks of a client back after a
 * restart: it registers again at once, with its last seq, and its leaf answers the frames it missed;
 * the client gets its welcome, those frames and a `replay_end`, and the object writes one record.
 */
import { DurableObject } from "cloudflare:workers";
import { welcomeMessage } from "../../src/protocol";
import { ROOT } from "../../src/relay/topology";
import { type FloorClientApi, type FloorEnv, pollIntervalMs, resumes, shard } from "./env";

export class FloorClient extends DurableObject<FloorEnv> implements FloorClientApi {
  /** Registered since this instance started (a restart starts a new one). */
  private joined = false;
  /** Sockets still waiting for their welcome and replay: live frames skip them. */
  private readonly waiting = new WeakSet<WebSocket>();

  override async fetch(request: Request): Promise<Response> {
    const params = new URL(request.url).searchParams;
    const clientId = params.get("client_id") ?? "";
    const { 0: socket, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const leaf = this.ctx.storage.kv.get<string>("leaf");
    if (leaf !== undefined && !this.joined && resumes(this.env)) {
      this.waiting.add(server);
      this.ctx.waitUntil(this.rejoin(server, clientId, leaf, Number(params.get("last_seq") ?? 0)));
      return new Response(null, { status: 101, webSocket: socket });
    }
    server.send(this.welcome(clientId, leaf !== undefined));
    if (leaf === undefined) {
      this.ctx.storage.kv.put("leaf", (await this.register(clientId, ROOT)).leaf);
      this.joined = true;
    }
    return new Response(null, { status: 101, webSocket: socket });
  }

  private welcome(clientId: string, resumed: boolean): string {
    return JSON.stringify(
      welcomeMessage({
        client_id: clientId,
        currencies: ["USD"],
        resumed,
        interval_ms: pollIntervalMs(this.env),
        epoch: "floor",
        heartbeat_s: 0,
      }),
    );
  }

  private async rejoin(ws: WebSocket, clientId: string, leaf: string, lastSeq: number): Promise<void> {
    const answer = await this.register(clientId, leaf, lastSeq);
    const replay = answer.replay ?? [];
    ws.send(this.welcome(clientId, true));
    for (const frame of replay) ws.send(frame);
    ws.send(JSON.stringify({ type: "replay_end", count: replay.length }));
    this.ctx.storage.kv.put("record", { leaf: answer.leaf, lastSeq, liveSinceMs: Date.now() });
    this.joined = true;
    this.waiting.delete(ws);
  }

  /** From `prefix` down: a split shard answers with the child on the client's path. */
  private async register(clientId: string, prefix: string, afterSeq?: number) {
    for (;;) {
      const answer = await shard(this.env, prefix).register(prefix, clientId, afterSeq);
      if ("leaf" in answer) return answer;
      prefix = answer.moved;
    }
  }

  async receive(frame: string): Promise<boolean> {
    let sent = false;
    for (const ws of this.ctx.getWebSockets()) {
      if (this.waiting.has(ws)) continue;
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

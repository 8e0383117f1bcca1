/**
 * The floor's hub: an alarm every POLL_INTERVAL_MS publishes the next seq as one price frame and
 * hands it to the root shard, without waiting for the fan-out (the next poll starts on time).
 */
import { DurableObject } from "cloudflare:workers";
import { priceMessage } from "../../src/protocol";
import { ROOT } from "../../src/relay/topology";
import { type FloorEnv, type FloorHealth, type FloorHubApi, pollIntervalMs, shard } from "./env";

export class FloorHub extends DurableObject<FloorEnv> implements FloorHubApi {
  private last: FloorHealth["last_fanout"] = null;
  private readonly calls: Record<string, number> = {};

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }

  /** Reading the health also starts the loop (the bench's first request is a /health). */
  async health(): Promise<FloorHealth> {
    this.count("health");
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + 1);
    return {
      ok: true,
      seq: this.ctx.storage.kv.get<number>("seq") ?? 0,
      hub_calls: { ...this.calls },
      last_fanout: this.last,
    };
  }

  override async alarm(): Promise<void> {
    this.count("alarm");
    await this.ctx.storage.setAlarm(Date.now() + pollIntervalMs(this.env));
    const seq = (this.ctx.storage.kv.get<number>("seq") ?? 0) + 1;
    this.ctx.storage.kv.put("seq", seq);
    const publishedMs = Date.now();
    const tick = {
      seq,
      tsMs: publishedMs,
      prices: { USD: 100_000 + (seq % 1000) / 100 },
      changed: ["USD" as const],
      sources: ["floor"],
    };
    const frame = JSON.stringify(priceMessage(tick, ["USD"], false));
    shard(this.env, ROOT)
      .deliver(ROOT, frame, seq)
      .then(
        (report) => {
          this.last = { ...report, seq, durationMs: Date.now() - publishedMs };
        },
        (error) => console.error("floor fan-out failed", String(error)),
      );
  }
}

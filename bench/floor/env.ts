/** The floor worker's bindings, the RPC surfaces its objects offer each other, and its settings. */
import type { FloorReport } from "./report";

export interface FloorShardApi extends Rpc.DurableObjectBranded {
  /**
   * `{ leaf }`: registered here; `{ moved }`: this shard has split, register with that child. With
   * `afterSeq`, a leaf also answers the frames it delivered past that seq (`replay`, marked replayed).
   */
  register(
    prefix: string,
    clientId: string,
    afterSeq?: number,
  ): Promise<{ leaf: string; replay?: string[] } | { moved: string }>;
  adoptMembers(prefix: string, clientIds: string[]): Promise<void>;
  deliver(prefix: string, frame: string, seq: number): Promise<FloorReport>;
}

export interface FloorClientApi extends Rpc.DurableObjectBranded {
  /** Sends the frame to the client's sockets; true when there was one. */
  receive(frame: string): Promise<boolean>;
}

export interface FloorHubApi extends Rpc.DurableObjectBranded {
  health(): Promise<FloorHealth>;
}

export interface FloorHealth {
  ok: true;
  seq: number;
  /** Calls the hub served since its instance started, by method (as the feed's /health counts them). */
  hub_calls: Record<string, number>;
  last_fanout: (FloorReport & { seq: number; durationMs: number }) | null;
}

export interface FloorEnv {
  FLOOR_HUB: DurableObjectNamespace<FloorHubApi>;
  FLOOR_SHARD: DurableObjectNamespace<FloorShardApi>;
  FLOOR_CLIENT: DurableObjectNamespace<FloorClientApi>;
  POLL_INTERVAL_MS?: string;
  FANOUT_CHUNK?: string;
  /** "1": the resuming floor (bench/README.md, "The floor"). */
  FLOOR_RESUME?: string;
}

const positive = (raw: string | undefined, fallback: number) => {
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

export const pollIntervalMs = (env: FloorEnv) => positive(env.POLL_INTERVAL_MS, 1000);
/** The resuming floor: a client back after a restart registers again, with its replay, and writes once. */
export const resumes = (env: FloorEnv) => env.FLOOR_RESUME === "1";
export const fanoutChunk = (env: FloorEnv) => Math.floor(positive(env.FANOUT_CHUNK, 500));

export const hub = (env: FloorEnv) => env.FLOOR_HUB.getByName("global");
export const shard = (env: FloorEnv, prefix: string) => env.FLOOR_SHARD.getByName(`shard:${prefix}`);
export const client = (env: FloorEnv, clientId: string) => env.FLOOR_CLIENT.getByName(clientId);

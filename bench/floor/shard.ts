/**
 * A floor shard: the feed's tree (src/relay/topology.ts), named by a hash prefix. A leaf lists its
 * members; past FANOUT_CHUNK it hands each child the members that hash to it and forwards to the
 * children from then on. Each deliver calls every member and every child at once. It keeps the frames
 * it delivered since it started, in memory, for the resuming floor's replays.
 */
import { DurableObject } from "cloudflare:workers";
import { shouldSplit, splitMembers } from "../../src/relay/topology";
import { client, type FloorEnv, type FloorShardApi, fanoutChunk, shard } from "./env";
import {
  type DeliveredFrame,
  FAILED_CHILD,
  type FloorReport,
  framesAfter,
  mergeReports,
  ownReport,
  registerTarget,
} from "./report";

const RECENT_FRAMES = 256;

export class FloorShard extends DurableObject<FloorEnv> implements FloorShardApi {
  /** Members and children in memory between ticks; read from storage once per wake. */
  private members: string[] | null = null;
  private children: string[] = [];
  private split = false;
  /** The frames delivered since this instance started, oldest first (at most RECENT_FRAMES). */
  private recent: DeliveredFrame[] = [];
  /** Calls served by method since this instance started (the feed's /health counts the same way). */
  private readonly calls: Record<string, number> = {};

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }
  /** Stubs kept between ticks, as the feed's fan-out keeps them. */
  private readonly memberStubs = new Map<string, ReturnType<typeof client>>();
  private readonly childStubs = new Map<string, ReturnType<typeof shard>>();

  constructor(ctx: DurableObjectState, env: FloorEnv) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS members (id TEXT PRIMARY KEY)");
  }

  private load(): string[] {
    if (this.members === null) {
      this.members = this.ctx.storage.sql
        .exec<{ id: string }>("SELECT id FROM members")
        .toArray()
        .map((r) => r.id);
      this.children = this.ctx.storage.kv.get<string[]>("children") ?? [];
      this.split = this.ctx.storage.kv.get<boolean>("split") ?? false;
    }
    return this.members;
  }

  private addChild(child: string): void {
    if (this.children.includes(child)) return;
    this.children = [...this.children, child];
    this.ctx.storage.kv.put("children", this.children);
  }

  async register(
    prefix: string,
    clientId: string,
    afterSeq?: number,
  ): Promise<{ leaf: string; replay?: string[] } | { moved: string }> {
    this.count("register");
    this.load();
    const target = registerTarget(prefix, clientId, this.split);
    if (target !== null) {
      this.addChild(target);
      return { moved: target };
    }
    await this.adopt(prefix, [clientId]);
    // Its own registration may have split this shard: the client is then on a child.
    const moved = registerTarget(prefix, clientId, this.split);
    if (moved !== null) return { moved };
    return afterSeq === undefined ? { leaf: prefix } : { leaf: prefix, replay: framesAfter(this.recent, afterSeq) };
  }

  async adoptMembers(prefix: string, clientIds: string[]): Promise<void> {
    this.count("adoptMembers");
    await this.adopt(prefix, clientIds);
  }

  private async adopt(prefix: string, clientIds: string[]): Promise<void> {
    const members = this.load();
    for (const id of clientIds) {
      if (members.includes(id)) continue;
      this.ctx.storage.sql.exec("INSERT OR IGNORE INTO members (id) VALUES (?)", id);
      members.push(id);
    }
    if (this.split || !shouldSplit(prefix, members.length, fanoutChunk(this.env))) return;
    // Split: registers go to the children from now on; each child gets the members that hash to it.
    // Until they have them, a deliver reaches both (a member may get that frame twice).
    this.split = true;
    this.ctx.storage.kv.put("split", true);
    const groups = splitMembers(prefix, members);
    for (const child of groups.keys()) this.addChild(child);
    await Promise.all([...groups].map(([child, ids]) => shard(this.env, child).adoptMembers(child, ids)));
    this.ctx.storage.sql.exec("DELETE FROM members");
    this.members = [];
  }

  async deliver(prefix: string, frame: string, seq: number): Promise<FloorReport> {
    this.count("deliver");
    this.recent.push({ seq, frame });
    if (this.recent.length > RECENT_FRAMES) this.recent.shift();
    const members = this.load();
    const memberCalls = members.map((id) => cached(this.memberStubs, id, () => client(this.env, id)).receive(frame));
    const childCalls = this.children.map((c) =>
      cached(this.childStubs, c, () => shard(this.env, c)).deliver(c, frame, seq),
    );
    const [sent, reports] = await Promise.all([Promise.allSettled(memberCalls), Promise.allSettled(childCalls)]);
    const delivered = sent.filter((r) => r.status === "fulfilled").length;
    return mergeReports(
      ownReport(prefix, this.split, members.length, delivered, this.calls),
      reports.map((r) => (r.status === "fulfilled" ? r.value : FAILED_CHILD)),
    );
  }
}

function cached<T>(stubs: Map<string, T>, key: string, make: () => T): T {
  let stub = stubs.get(key);
  if (stub === undefined) {
    stub = make();
    stubs.set(key, stub);
  }
  return stub;
}

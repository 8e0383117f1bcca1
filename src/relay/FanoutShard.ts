import { DurableObject } from "cloudflare:workers";
import { configOf, type Config } from "../config";
import type {
  CopyPage,
  FanoutEvent,
  FanoutReport,
  RegisterAnswer,
  RegisterRequest,
  ReplayQuery,
  SessionApi,
  ShardAck,
  ShardApi,
} from "../contracts";
import { CallCounter } from "../shared/call-counter";
import { log } from "../shared/log";
import type { TickPage } from "../storage/tick-table";
import { hubApi, sessionStub, shardStub } from "../stubs";
import { childrenDeadlineMs } from "./deadlines";
import { deliverBatch, type Receiver } from "./deliver";
import { encodeEvent } from "./event-wire";
import { HistoryCopy, placeEvent } from "./history-copy";
import { MemberTable } from "./member-table";
import { subtreeReport } from "./report";
import { isDigit, readLayout, withChild, type ShardLayout } from "./shard-layout";
import { StubCache } from "./stub-cache";
import { childToward, digitOf, isOnPath, MAX_DEPTH, parentOf, ROOT, shouldSplit, splitMembers } from "./topology";

/** Ticks per page when a shard fills its copy of the history from its parent. */
export const COPY_PAGE_SIZE = 1000;
/** The name prefix of every shard object (src/stubs.ts). */
const NAME_PREFIX = "shard:";

/**
 * One shard of the fan-out tree (docs/design/fanout.md): it keeps a copy of the history, forwards each
 * event from its parent to its children and its member sessions, registers sessions, splits when it
 * holds more than FANOUT_CHUNK of them, and heals: it announces itself to its parent when it starts
 * serving, and again whenever its parent has been silent for two poll intervals.
 */
export class FanoutShard extends DurableObject<Env> implements ShardApi {
  private readonly prefix: string;
  private readonly calls = new CallCounter();
  private readonly members: MemberTable;
  private readonly copy: HistoryCopy;
  private readonly sessions = new StubCache((clientId) => sessionStub(this.env, clientId));
  private readonly childStubs = new StubCache((prefix) => shardStub(this.env, prefix));
  private layoutKept: ShardLayout | null = null;
  private filling: Promise<void> | null = null;
  private splitting: Promise<void> | null = null;
  private watchdogArmed = false;
  /** When the parent (the hub, for the root) last sent an event. */
  private lastEventAtMs = Date.now();
  /** When members were last sent anything: a beat is passed on to them only after HEARTBEAT_S of quiet. */
  private lastToMembersAtMs = Date.now();
  /** Members that failed the last event: the next beat reaches them whatever the quiet, to catch them up. */
  private behindMembers = new Set<string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const name = ctx.id.name ?? "";
    if (!name.startsWith(NAME_PREFIX)) throw new Error(`a shard must be reached by name, got "${name}"`);
    this.prefix = name.slice(NAME_PREFIX.length);
    this.members = new MemberTable(ctx.storage.sql);
    this.copy = new HistoryCopy(ctx.storage.sql, ctx.storage.kv);
  }

  private get config(): Config {
    return configOf(this.env);
  }

  /** Read from storage once per instance: every registration and event asks for it. */
  private get layout(): ShardLayout {
    this.layoutKept ??= readLayout(this.ctx.storage.kv);
    return this.layoutKept;
  }

  /**
   * A shard that serves nobody: no member, no child, never split. It is new or lost its storage (a copy
   * of the history filled for a child's sake does not count): one that starts serving announces itself.
   */
  private get isEmpty(): boolean {
    const layout = this.layout;
    return !layout.split && layout.children.length === 0 && this.members.count === 0;
  }

  async deliver(event: FanoutEvent): Promise<ShardAck> {
    this.calls.count("deliver");
    this.lastEventAtMs = Date.now();
    await this.ensureFilled();
    let state = this.copy.state!;
    let placement = placeEvent(state, event);
    if (placement.place === "fill" && event.kind !== "status" && event.backlog?.gap) {
      // The sender no longer holds what this copy misses: fill the whole copy again rather than keep a hole.
      this.copy.clear();
      await this.ensureFilled();
      state = this.copy.state!;
      placement = placeEvent(state, { ...event, backlog: undefined });
    }
    if (placement.place === "hole") return { subscribed: true, missingAfter: placement.missingAfter };
    const config = this.config;
    const taken = placement.place !== "held" && this.take(event, config);
    if (!taken) return { subscribed: true, report: await this.forward(null, false, config) };
    const { backlog: _backlog, ...passed } = event as FanoutEvent & { backlog?: TickPage };
    // A beat that closed a hole here likely finds the members missing the same ticks: they all get it.
    const filled = placement.place === "fill";
    return { subscribed: true, report: await this.forward(passed as FanoutEvent, filled, config) };
  }

  /** The ticks and the head commit together: a copy is never ahead of what it holds. */
  private take(event: FanoutEvent, config: Config): boolean {
    try {
      return this.ctx.storage.transactionSync(() => this.copy.take(event, Date.now(), config.historyRetentionS * 1000));
    } catch (error) {
      // Rolled back: what the copy kept in memory may be ahead of its storage.
      this.copy.reload();
      throw error;
    }
  }

  /**
   * Sends the event to every child and member at once (null: to nobody, for a report only). A child or
   * a member with a hole gets it again with the history it misses, read once from this shard's copy.
   * A beat reaches members only after HEARTBEAT_S of quiet, after it closed a hole here, or when they
   * failed the last event: then a lost delivery is caught up within a poll, not at the next price.
   */
  private async forward(event: FanoutEvent | null, filled: boolean, config: Config): Promise<FanoutReport> {
    const layout = this.layout;
    const children = event ? layout.children.map((digit) => this.prefix + digit) : [];
    const now = Date.now();
    const toAll =
      event !== null && (event.kind !== "beat" || filled || now - this.lastToMembersAtMs >= config.heartbeatS * 1000);
    const behind = [...this.behindMembers].filter((id) => this.members.has(id));
    // A parked member is probed again after CLIENT_TTL_S: by then its session has forgotten it or been purged.
    const memberIds = toAll ? this.members.reachable(now, config.clientTtlS * 1000) : event ? behind : [];
    if (toAll && memberIds.length > 0) this.lastToMembersAtMs = now;
    const generation = this.members.generation;
    const backlog = (afterSeq: number) => this.copy.ticks.after(afterSeq, config.maxBuffer);
    const childReceivers: Receiver<ShardAck>[] = this.childStubs
      .batch(children)
      .map((stub, i) => ({ name: children[i]!, send: (e) => stub.deliver(e) }));
    const memberReceivers = this.sessions.batch(memberIds).map((stub: DurableObjectStub<SessionApi>, i) => ({
      name: memberIds[i]!,
      send: (e: FanoutEvent) => stub.receive(encodeEvent(e)),
    }));
    const childTimeoutMs = childrenDeadlineMs(config.fanoutTimeoutMs, this.prefix.length);
    const [kids, sessions] = await Promise.all([
      event ? deliverBatch(childReceivers, event, { timeoutMs: childTimeoutMs, backlog }) : null,
      event ? deliverBatch(memberReceivers, event, { timeoutMs: config.fanoutTimeoutMs, backlog }) : null,
    ]);
    for (const name of kids?.threw ?? []) this.childStubs.forget(name);
    for (const name of sessions?.threw ?? []) this.sessions.forget(name);
    if (sessions) this.behindMembers = new Set(sessions.failed);
    if (sessions && sessions.parked.length > 0) this.members.park(sessions.parked, generation, Date.now());
    if (sessions && sessions.gone.length > 0) this.members.removeGone(sessions.gone, generation);
    if (kids && kids.failed.length > 0) log("shard_children_failed", { shard: this.prefix, children: kids.failed });
    return subtreeReport(
      {
        depth: this.prefix.length,
        members: this.members.count,
        leaf: layout.children.length === 0,
        delivered: sessions?.handled.length ?? 0,
        failed: (sessions?.failed.length ?? 0) + (kids?.failed.length ?? 0),
        gone: sessions?.gone.length ?? 0,
        parked: this.members.parkedCount,
        calls: this.calls.report(),
      },
      (kids?.handled ?? []).flatMap((h) => (h.result.report ? [h.result.report] : [])),
    );
  }

  async register(clientId: string, request: RegisterRequest): Promise<RegisterAnswer> {
    this.calls.count("register");
    if (!isOnPath(this.prefix, clientId)) return { kind: "moved", to: ROOT };
    const moved = this.redirect(clientId);
    if (moved) return moved;
    const wasEmpty = this.isEmpty;
    if (wasEmpty && request.via === "guess" && this.prefix !== ROOT) return { kind: "absent" };
    await this.ensureFilled();
    // A split may have begun while the copy was filled.
    const movedMeanwhile = this.redirect(clientId);
    if (movedMeanwhile) return movedMeanwhile;
    this.members.add([clientId], Date.now());
    if (wasEmpty) this.announce("serving");
    this.armWatchdog();
    this.splitIfFull();
    const snapshot = this.copy.snapshot()!;
    const replay = request.replay && this.copy.read(request.replay, request.replayLimit ?? this.config.maxReplay);
    return { kind: "registered", shard: this.prefix, snapshot, ...(replay ? { replay } : {}) };
  }

  /** A split shard sends registrations to the child on the client's path, and lists that child. */
  private redirect(clientId: string): RegisterAnswer | null {
    const layout = this.layout;
    if (!layout.split) return null;
    const child = childToward(this.prefix, clientId);
    if (child === null) return null;
    this.members.remove([clientId]);
    const next = withChild(layout, digitOf(child));
    if (next !== layout) this.saveLayout(next);
    return { kind: "moved", to: child };
  }

  async unregister(clientId: string): Promise<{ known: boolean; moved?: string }> {
    this.calls.count("unregister");
    if (this.members.remove([clientId]) > 0) return { known: true };
    const child = this.layout.split ? childToward(this.prefix, clientId) : null;
    return child === null ? { known: false } : { known: false, moved: child };
  }

  async adoptChild(digit: string): Promise<void> {
    this.calls.count("adoptChild");
    if (!isDigit(digit) || this.prefix.length >= MAX_DEPTH) return;
    const wasEmpty = this.isEmpty;
    const layout = this.layout;
    const next = withChild(layout, digit);
    if (next !== layout) {
      this.saveLayout(next);
      log("shard_child_adopted", { shard: this.prefix, child: this.prefix + digit });
    }
    if (wasEmpty) this.announce("serving");
    this.armWatchdog();
    // Members listed before this shard knew it has children are handed down to them.
    if (this.members.count > 0) this.splitIfFull();
  }

  async adoptMembers(clientIds: readonly string[]): Promise<void> {
    this.calls.count("adoptMembers");
    await this.ensureFilled();
    this.members.add(
      clientIds.filter((id) => isOnPath(this.prefix, id)),
      Date.now(),
    );
    this.armWatchdog();
    this.splitIfFull();
  }

  async replay(query: ReplayQuery, limit: number): Promise<TickPage> {
    this.calls.count("replay");
    await this.ensureFilled();
    return this.copy.read(query, limit);
  }

  async copyPage(afterSeq: number, limit: number): Promise<CopyPage> {
    this.calls.count("copyPage");
    await this.ensureFilled();
    const { epoch, headSeq, status, statusAtMs } = this.copy.state!;
    return { from: { epoch, headSeq, status, statusAtMs }, ticks: this.copy.ticks.oldestAfter(afterSeq, limit) };
  }

  /** The copy of the history, filled from the parent (the hub, for the root) when there is none. */
  private ensureFilled(): Promise<void> {
    if (this.filling) return this.filling;
    if (this.copy.state) return Promise.resolve();
    const parent = parentOf(this.prefix);
    const source = parent === null ? hubApi(this.env) : shardStub(this.env, parent);
    this.filling = this.copy
      .fillFrom((after) => source.copyPage(after, COPY_PAGE_SIZE), COPY_PAGE_SIZE)
      .then(() => log("shard_filled", { shard: this.prefix, head: this.copy.state?.headSeq ?? null }))
      .finally(() => {
        this.filling = null;
      });
    return this.filling;
  }

  /** Splits a full leaf, or hands down the members a split shard still lists; one run at a time. */
  private splitIfFull(): void {
    if (this.splitting) return;
    const layout = this.layout;
    const members = this.members.count;
    if (!(layout.split ? members > 0 : shouldSplit(this.prefix, members, this.config.fanoutChunk))) return;
    this.splitting = this.handDown().finally(() => {
      this.splitting = null;
    });
    this.ctx.waitUntil(this.splitting);
  }

  private async handDown(): Promise<void> {
    // Marked first, durably: from now on registrations go to the children.
    if (!this.layout.split) this.saveLayout({ ...this.layout, split: true });
    const groups = splitMembers(this.prefix, this.members.ids());
    const moved = await Promise.all(
      [...groups].map(async ([child, clientIds]) => {
        this.saveLayout(withChild(this.layout, digitOf(child)));
        try {
          await shardStub(this.env, child).adoptMembers(clientIds);
          this.members.remove(clientIds);
          return clientIds.length;
        } catch (error) {
          // They stay listed here (and still get every event) until the watchdog tries again.
          log("shard_hand_down_failed", { shard: this.prefix, child, error: String(error) });
          return 0;
        }
      }),
    );
    log("shard_split", { shard: this.prefix, moved: moved.reduce((a, b) => a + b, 0), children: groups.size });
  }

  private saveLayout(layout: ShardLayout): void {
    this.ctx.storage.kv.put("layout", layout);
    this.layoutKept = layout;
  }

  /** Tells the parent this shard serves (the root tells the hub to keep polling). Never awaited by callers. */
  private announce(why: "serving" | "parent silent"): void {
    const parent = parentOf(this.prefix);
    const call =
      parent === null ? hubApi(this.env).ensureRunning() : shardStub(this.env, parent).adoptChild(digitOf(this.prefix));
    this.ctx.waitUntil(
      Promise.resolve(call).then(
        () => log("shard_announced", { shard: this.prefix, why }),
        (error) => log("shard_announce_failed", { shard: this.prefix, why, error: String(error) }),
      ),
    );
  }

  private armWatchdog(): void {
    if (this.watchdogArmed) return;
    this.watchdogArmed = true;
    const dueMs = Date.now() + this.watchdogMs();
    this.ctx.waitUntil(
      this.ctx.storage.getAlarm().then((at) => (at === null ? this.ctx.storage.setAlarm(dueMs) : undefined)),
    );
  }

  private watchdogMs(): number {
    return 2 * this.config.pollIntervalMs;
  }

  /**
   * The watchdog: while the shard serves anyone, it checks every two poll intervals that its parent still
   * sends events (a beat every poll at least). A silent parent may have lost its storage: announce again.
   */
  override async alarm(): Promise<void> {
    const layout = this.layout;
    if (this.members.count === 0 && layout.children.length === 0) {
      this.watchdogArmed = false;
      return;
    }
    const now = Date.now();
    if (now - this.lastEventAtMs > this.watchdogMs()) this.announce("parent silent");
    if (layout.split && this.members.count > 0) this.splitIfFull();
    await this.ctx.storage.setAlarm(now + this.watchdogMs());
    this.watchdogArmed = true;
  }
}

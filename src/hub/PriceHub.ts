import { DurableObject } from "cloudflare:workers";
import { configOf, type Config } from "../config";
import type {
  CopyPage,
  Epoch,
  FanoutEvent,
  FanoutReport,
  HubApi,
  HubHttpApi,
  PriceSnapshot,
  ShardApi,
} from "../contracts";
import type { Currency, Dispute, HubHealth, StatusMessage, Tick } from "../protocol";
import { childrenDeadlineMs } from "../relay/deadlines";
import { ROOT } from "../relay/topology";
import { CallCounter } from "../shared/call-counter";
import { log } from "../shared/log";
import { randomId } from "../shared/random-id";
import { quotedBy } from "../sources/registry";
import type { Quotes } from "../sources/types";
import { TickTable, type CandlePage, type PricePage, type TickPage } from "../storage/tick-table";
import { shardStub } from "../stubs";
import { feedStatus, nextCondition, statusKey } from "./feed-status";
import { buildHealth } from "./health";
import type { HubState } from "./hub-state";
import { initialPollerState, pollOnce, type PollerState } from "./poller";
import { nextTick } from "./publish";
import { configuredSourceKind, needsNewHistory, sourceKindOf, type SourceKind } from "./source-kind";

/** Fields a state stored by an older version lacks take these values. */
const ADDED_SINCE_STORED: Pick<HubState, "lastHeardAtMs" | "disputes" | "disputedSinceMs" | "statusAtMs"> = {
  lastHeardAtMs: null,
  disputes: [],
  disputedSinceMs: null,
  statusAtMs: 0,
};

/** What one poll recorded, and the fan-out of its events, under way. */
interface Recorded {
  tick: Tick | null;
  fanout: Promise<void>;
}

/**
 * The one object that polls upstream, keeps the price history and hands each poll's event to the root
 * of the fan-out tree (docs/design/fanout.md). It knows nothing of clients. Its alarm loop runs every
 * POLL_INTERVAL_MS and never waits for a fan-out; the cron trigger only re-arms it if it ever stopped.
 */
export class PriceHub extends DurableObject<Env> implements HubApi, HubHttpApi {
  private readonly history: TickTable;
  private readonly calls = new CallCounter();
  private readonly startedAtMs = Date.now();
  /** True while alarm() runs: getAlarm() is null then, which must not read as "the loop stopped". */
  private polling = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.history = new TickTable(ctx.storage.sql, "ticks");
    // The subscriber list of the version before the fan-out tree: the shards list sessions now.
    ctx.storage.sql.exec("DROP TABLE IF EXISTS subscribers");
    if (ctx.storage.kv.get("epoch") === undefined) this.startEpoch();
    this.startHistoryFor(this.config);
    // Whatever wakes the hub (the root shard, an API call, the cron) starts its loop if it is not running.
    ctx.blockConcurrencyWhile(() => this.rearm());
  }

  private get config(): Config {
    return configOf(this.env);
  }

  private get state(): HubState {
    const stored = this.ctx.storage.kv.get<HubState>("hub");
    if (stored) return { ...ADDED_SINCE_STORED, ...stored };
    const initial: HubState = {
      lastSeq: 0,
      lastPollAtMs: null,
      lastFreshAtMs: null,
      lastHeardAtMs: null,
      staleSinceMs: null,
      disputes: [],
      disputedSinceMs: null,
      lastFanout: null,
      statusAtMs: Date.now(),
      startedAtMs: Date.now(),
    };
    this.ctx.storage.kv.put("hub", initial);
    return initial;
  }

  private set state(next: HubState) {
    this.ctx.storage.kv.put("hub", next);
  }

  private get root(): DurableObjectStub<ShardApi> {
    return shardStub(this.env, ROOT);
  }

  override async alarm(): Promise<void> {
    this.calls.count("alarm");
    const startedAt = Date.now();
    const config = this.config;
    this.polling = true;
    try {
      // The fan-out goes on by itself: the next poll starts on time whatever a session is doing.
      await this.poll(config);
    } catch (error) {
      log("hub_poll_failed", { error: String(error) });
    } finally {
      this.polling = false;
      // Never let the loop die; setAlarm(now) inside alarm() is dropped locally, hence the +1.
      await this.ctx.storage.setAlarm(Math.max(startedAt + config.pollIntervalMs, Date.now() + 1));
    }
  }

  /** One turn of the loop, waiting for its fan-out too (for tests and drills; the alarm does not wait). */
  async pollAndPublish(config: Config = this.config): Promise<Tick | null> {
    const recorded = await this.poll(config);
    await recorded.fanout;
    return recorded.tick;
  }

  /** Polls the sources and records what they said. */
  private async poll(config: Config): Promise<Recorded> {
    this.startHistoryFor(config);
    const poller = this.ctx.storage.kv.get<PollerState>("poller") ?? initialPollerState();
    const outcome = await pollOnce(
      poller,
      {
        config,
        fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init),
        now: Date.now,
        log: (event: Record<string, unknown>) => log("source_event", event),
      },
      this.history.latest()?.prices ?? {},
    );
    return this.record(
      outcome.prices,
      outcome.sources,
      { poller: outcome.state, disputes: outcome.disputes, currencySources: outcome.sourcesByCurrency },
      config,
    );
  }

  /**
   * Records a poll's result and waits for its fan-out (tests and drills call this directly; the poll
   * loop does not wait). Empty `prices` means the poll produced nothing fresh.
   */
  async publish(
    prices: Quotes,
    sources: string[],
    extras: { poller?: PollerState; disputes?: Dispute[]; currencySources?: Partial<Record<Currency, string[]>> } = {},
    config: Config = this.config,
  ): Promise<Tick | null> {
    const recorded = this.record(prices, sources, extras, config);
    await recorded.fanout;
    return recorded.tick;
  }

  /**
   * A new tick when a price changed (seq, history), the feed's status, and their fan-out: a status
   * change and a tick (or, without a tick, a beat) each travel the tree on their own.
   */
  private record(
    prices: Quotes,
    sources: string[],
    extras: { poller?: PollerState; disputes?: Dispute[]; currencySources?: Partial<Record<Currency, string[]>> },
    config: Config,
  ): Recorded {
    this.startHistoryFor(config);
    const now = Date.now();
    const state = this.state;
    const fresh = Object.keys(prices).length > 0;
    const tick = fresh
      ? nextTick(this.history.latest(), prices, sources, state.lastSeq + 1, now, extras.currencySources)
      : null;
    const quoted = quotedBy(config);
    const condition = nextCondition(
      state,
      { prices, disputes: extras.disputes ?? [] },
      now,
      config.pollIntervalMs,
      (c) => quoted[c] > 0,
    );
    const status = feedStatus(condition);
    const statusChange = statusKey(status) !== statusKey(feedStatus(state)) ? status : null;
    const next: HubState = {
      ...state,
      ...condition,
      lastSeq: tick ? tick.seq : state.lastSeq,
      lastPollAtMs: now,
      statusAtMs: statusChange ? now : state.statusAtMs,
    };

    // One synchronous block: the seq, the tick, the hub's state and the poller's commit together or not at all.
    this.ctx.storage.transactionSync(() => {
      if (extras.poller) this.ctx.storage.kv.put("poller", extras.poller);
      if (tick) this.history.insert(tick);
      this.history.deleteOlderThan(now - config.historyRetentionS * 1000);
      this.state = next;
    });

    const epoch = this.epochRef();
    const events: FanoutEvent[] = [];
    if (statusChange) {
      log("feed_status", { ...statusChange });
      events.push({ kind: "status", status: statusChange, atMs: now });
    }
    events.push(tick ? { kind: "tick", tick, epoch } : { kind: "beat", epoch, headSeq: next.lastSeq, atMs: now });
    return { tick, fanout: Promise.all(events.map((event) => this.fanout(event, config))).then(() => undefined) };
  }

  /** Hands one event to the root shard, in the background; a tick's report is kept for /health. */
  private fanout(event: FanoutEvent, config: Config): Promise<void> {
    const started = Date.now();
    const run = this.deliverToRoot(event, config).then(
      (report) => {
        if (report && event.kind === "tick") {
          this.state = {
            ...this.state,
            lastFanout: { ...report, seq: event.tick.seq, durationMs: Date.now() - started },
          };
        }
      },
      (error) => log("fanout_failed", { kind: event.kind, error: String(error) }),
    );
    this.ctx.waitUntil(run);
    return run;
  }

  private async deliverToRoot(event: FanoutEvent, config: Config): Promise<FanoutReport | null> {
    // The hub is the root's parent: it waits a level's margin longer than the root waits for its children.
    const deadlineMs = childrenDeadlineMs(config.fanoutTimeoutMs, -1);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the root shard did not answer within ${deadlineMs} ms`)), deadlineMs);
    });
    try {
      const root = this.root;
      let ack = await Promise.race([root.deliver(event), deadline]);
      if (ack.missingAfter !== undefined && event.kind !== "status") {
        const backlog: TickPage = this.history.after(ack.missingAfter, config.maxBuffer);
        ack = await Promise.race([root.deliver({ ...event, backlog }), deadline]);
      }
      return ack.report ?? null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Re-arms the loop if no alarm is set. Returns true when it had to. */
  private async rearm(): Promise<boolean> {
    if (this.polling || (await this.ctx.storage.getAlarm()) !== null) return false;
    await this.ctx.storage.setAlarm(Date.now() + 1);
    log("hub_rearmed", {});
    return true;
  }

  /** The cron watchdog, and the root shard when the hub has been silent: re-arms the loop if it stopped. */
  async ensureRunning(): Promise<boolean> {
    this.calls.count("ensureRunning");
    return this.rearm();
  }

  /** The root shard fills its copy of the history from here, page by page, oldest first. */
  copyPage(afterSeq: number, limit: number): CopyPage {
    this.calls.count("copyPage");
    const state = this.state;
    return {
      from: { epoch: this.epochRef(), headSeq: state.lastSeq, status: feedStatus(state), statusAtMs: state.statusAtMs },
      ticks: this.history.oldestAfter(afterSeq, limit),
    };
  }

  latest(): Tick | null {
    return this.history.latest();
  }

  /**
   * The history's id, made when the hub's storage is created and again when it starts a new history (the
   * source kind changed): ticks are only comparable within one epoch. seq goes on across epochs.
   */
  epoch(): string {
    return this.ctx.storage.kv.get<string>("epoch")!;
  }

  /** The epoch and the first seq that belongs to it. */
  private epochRef(): Epoch {
    const kv = this.ctx.storage.kv;
    let startSeq = kv.get<number>("epoch_start");
    if (startSeq === undefined) {
      // An epoch made before its start was recorded: it starts at its oldest tick still held.
      startSeq = this.history.oldestSeq() ?? this.state.lastSeq + 1;
      kv.put("epoch_start", startSeq);
    }
    return { id: this.epoch(), startSeq };
  }

  private startEpoch(): void {
    this.ctx.storage.kv.put("epoch", randomId(12));
    this.ctx.storage.kv.put("epoch_start", this.state.lastSeq + 1);
  }

  /**
   * Simulated and real prices never share a history: when the configured sources are of another kind
   * than the ones that made the history, its ticks go and a new epoch starts.
   */
  private startHistoryFor(config: Config): void {
    const kv = this.ctx.storage.kv;
    const configured = configuredSourceKind(config);
    const stored = kv.get<SourceKind>("source_kind");
    if (configured === null || stored === configured) return;
    // A history from before the kind was recorded: its latest tick names its sources.
    const recorded = stored ?? sourceKindOf(this.history.latest()?.sources ?? []);
    const restart = needsNewHistory(recorded, configured);
    this.ctx.storage.transactionSync(() => {
      if (restart) {
        this.history.clear();
        this.startEpoch();
        kv.delete("poller");
        this.state = { ...this.state, disputes: [], disputedSinceMs: null };
      }
      kv.put("source_kind", configured);
    });
    if (restart) log("history_restarted", { from: recorded, to: configured, epoch: this.epoch() });
  }

  status(): StatusMessage {
    return feedStatus(this.state);
  }

  /** For GET /api/history (through the edge cache): one page, as JSON text built by SQLite. */
  historyPage(currency: Currency, fromMs: number, toMs: number, afterSeq: number, limit: number): PricePage {
    this.calls.count("historyPage");
    return this.history.pricePage(currency, fromMs, toMs, afterSeq, limit);
  }

  /** For GET /api/price (through the edge cache): the latest tick, the feed's state and the 24-hour figures. */
  snapshot(): PriceSnapshot {
    this.calls.count("snapshot");
    return { latest: this.history.latest(), status: this.status(), stats24h: this.history.dayStats() };
  }

  /** For GET /health (through the edge cache). */
  async health(): Promise<HubHealth> {
    this.calls.count("health");
    const config = this.config;
    return buildHealth({
      config,
      state: this.state,
      poller: this.ctx.storage.kv.get<PollerState>("poller") ?? initialPollerState(),
      latest: this.history.latest(),
      alarmAtMs: await this.ctx.storage.getAlarm(),
      hubCalls: this.calls.report(),
      hubStartedAtMs: this.startedAtMs,
      nowMs: Date.now(),
    });
  }

  /** For GET /api/candles (through the edge cache): one page, JSON built by SQLite. */
  candlesPage(currency: Currency, bucketS: number, fromMs: number, toMs: number, limit: number): CandlePage {
    this.calls.count("candlesPage");
    return this.history.candlePage(currency, bucketS, fromMs, toMs, limit);
  }
}

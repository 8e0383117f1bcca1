import { DurableObject } from "cloudflare:workers";
import { readConfig, type Config } from "../config";
import type { DeliveryReport, HubApi, HubEvent, SubscribeResult } from "../contracts";
import type { Currency, Dispute, PriceStats, StatusMessage, Tick } from "../protocol";
import { deliverThroughRelays, deliverToSessions } from "../relay/deliver";
import { partitionSubscribers, relayCount } from "../relay/partition";
import { SessionStubs } from "../relay/session-stubs";
import { log } from "../shared/log";
import { randomId } from "../shared/random-id";
import { quotedBy } from "../sources/registry";
import type { Quotes } from "../sources/types";
import { TickTable, type CandlePage, type PricePage, type TickPage } from "../storage/tick-table";
import { relayStub } from "../stubs";
import { feedStatus, nextCondition, statusKey } from "./feed-status";
import { buildHealth, type HubHealth } from "./health";
import type { HubState } from "./hub-state";
import { SubscriberTable } from "./subscribers";
import { ReadCounter } from "./read-counter";
import { initialPollerState, pollOnce, type PollerState } from "./poller";
import { nextTick } from "./publish";
import { configuredSourceKind, needsNewHistory, sourceKindOf, type SourceKind } from "./source-kind";

/** Fields a state stored by an older version lacks take these values. */
const ADDED_SINCE_STORED: Pick<HubState, "lastHeardAtMs" | "disputes" | "disputedSinceMs"> = {
  lastHeardAtMs: null,
  disputes: [],
  disputedSinceMs: null,
};

/**
 * The one object that polls upstream, keeps the price history and fans each new price out.
 * Its alarm loop runs every POLL_INTERVAL_MS; the cron trigger only re-arms it if it ever stopped.
 */
export class PriceHub extends DurableObject<Env> implements HubApi {
  private readonly history: TickTable;
  private readonly sessions: SessionStubs;
  private readonly subscribers: SubscriberTable;
  /** Calls the HTTP side made (each one an edge-cache miss), shown in /health. */
  private readonly httpReads = new ReadCounter();
  /** True while alarm() runs: getAlarm() is null then, which must not read as "the loop stopped". */
  private polling = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.history = new TickTable(ctx.storage.sql, "ticks");
    this.sessions = new SessionStubs(env);
    this.subscribers = new SubscriberTable(ctx.storage.sql, ctx.storage.kv);
    if (ctx.storage.kv.get("epoch") === undefined) ctx.storage.kv.put("epoch", randomId(12));
    this.startHistoryFor(this.config);
    // Whatever wakes the hub (a subscriber, an API call, the cron) starts its loop if it is not running.
    ctx.blockConcurrencyWhile(() => this.ensureRunning());
  }

  private get config(): Config {
    return readConfig(this.env);
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
      startedAtMs: Date.now(),
    };
    this.ctx.storage.kv.put("hub", initial);
    return initial;
  }

  private set state(next: HubState) {
    this.ctx.storage.kv.put("hub", next);
  }

  override async alarm(): Promise<void> {
    const startedAt = Date.now();
    const config = this.config;
    this.polling = true;
    try {
      await this.pollAndPublish(config);
    } catch (error) {
      log("hub_poll_failed", { error: String(error) });
    } finally {
      this.polling = false;
      // Never let the loop die; setAlarm(now) inside alarm() is dropped locally, hence the +1.
      await this.ctx.storage.setAlarm(Math.max(startedAt + config.pollIntervalMs, Date.now() + 1));
    }
  }

  /** One turn of the loop: poll the sources, then publish what they said. */
  async pollAndPublish(config: Config = this.config): Promise<Tick | null> {
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
    return this.publish(
      outcome.prices,
      outcome.sources,
      { poller: outcome.state, disputes: outcome.disputes, currencySources: outcome.sourcesByCurrency },
      config,
    );
  }

  /**
   * Records a poll's result: a new tick when a price changed (seq, history), the feed's
   * staleness, and the fan-out of both. Empty `prices` means the poll produced nothing fresh.
   */
  async publish(
    prices: Quotes,
    sources: string[],
    extras: { poller?: PollerState; disputes?: Dispute[]; currencySources?: Partial<Record<Currency, string[]>> } = {},
    config: Config = this.config,
  ): Promise<Tick | null> {
    this.startHistoryFor(config);
    const now = Date.now();
    const state = this.state;
    const fresh = Object.keys(prices).length > 0;
    const tick = fresh
      ? nextTick(this.history.latest(), prices, sources, state.lastSeq + 1, now, extras.currencySources)
      : null;

    // One synchronous block: the seq, the tick and the poller state commit together or not at all.
    this.ctx.storage.transactionSync(() => {
      if (extras.poller) this.ctx.storage.kv.put("poller", extras.poller);
      if (tick) this.history.insert(tick);
      this.history.deleteOlderThan(now - config.historyRetentionS * 1000);
    });

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
    this.state = { ...state, ...condition, lastSeq: tick ? tick.seq : state.lastSeq, lastPollAtMs: now };

    if (statusChange) {
      log("feed_status", { ...statusChange });
      await this.fanout({ kind: "status", status: statusChange }, config);
    }
    if (tick) await this.fanout({ kind: "tick", tick, epoch: this.epoch() }, config);
    return tick;
  }

  private async fanout(event: HubEvent, config: Config): Promise<void> {
    const started = Date.now();
    const generation = this.subscribers.generation;
    const ids = this.subscribers.ids();
    if (ids.length === 0) return;
    const relays = relayCount(ids.length, config.fanoutRelays, config.fanoutChunk);
    let report: DeliveryReport;
    if (relays === 0) {
      report = await deliverToSessions(this.sessions, event, ids, {
        backlog: (afterSeq) => this.history.after(afterSeq, config.maxBuffer),
      });
    } else {
      this.sessions.clear(); // the relays hold the stubs now
      const groups = partitionSubscribers(ids, relays);
      const sent = await deliverThroughRelays(
        groups.map((group, i) => ({ size: group.length, send: () => relayStub(this.env, i).relay(event, group) })),
        config.relayTimeoutMs,
      );
      report = sent.report;
      if (sent.failedRelays.length > 0) log("relays_failed", { relays: sent.failedRelays, of: relays });
    }
    this.subscribers.removeGone(report.gone, generation);
    if (report.failed > 0) log("fanout_failures", { failed: report.failed, of: ids.length });
    if (event.kind === "tick") {
      this.state = {
        ...this.state,
        lastFanout: { ...report, seq: event.tick.seq, relays, durationMs: Date.now() - started },
      };
    }
  }

  /** Cron watchdog: re-arms the loop if no alarm is set. Returns true when it had to. */
  async ensureRunning(): Promise<boolean> {
    if (this.polling || (await this.ctx.storage.getAlarm()) !== null) return false;
    await this.ctx.storage.setAlarm(Date.now() + 1);
    log("hub_rearmed", {});
    return true;
  }

  async subscribe(clientId: string): Promise<SubscribeResult> {
    this.subscribers.add(clientId, Date.now());
    await this.ensureRunning();
    return { latest: this.history.latest(), status: this.status(), epoch: this.epoch() };
  }

  unsubscribe(clientId: string): void {
    this.subscribers.remove(clientId);
  }

  subscriberCount(): number {
    return this.subscribers.count();
  }

  latest(): Tick | null {
    return this.history.latest();
  }

  /**
   * Made when the hub's storage is created, and again when it starts a new history (the source kind
   * changed): ticks are only comparable within one epoch. seq goes on across epochs, never reused.
   */
  epoch(): string {
    return this.ctx.storage.kv.get<string>("epoch")!;
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
        kv.put("epoch", randomId(12));
        kv.delete("poller");
        this.state = { ...this.state, disputes: [], disputedSinceMs: null };
      }
      kv.put("source_kind", configured);
    });
    if (restart) log("history_restarted", { from: recorded, to: configured, epoch: this.epoch() });
  }

  ticksAfter(afterSeq: number, limit: number): TickPage {
    return this.history.after(afterSeq, limit);
  }

  ticksSince(sinceMs: number, limit: number): TickPage {
    return this.history.since(sinceMs, limit);
  }

  /** For GET /api/history (through the edge cache): one page, as JSON text built by SQLite. */
  historyPage(currency: Currency, fromMs: number, toMs: number, afterSeq: number, limit: number): PricePage {
    this.httpReads.count("history");
    return this.history.pricePage(currency, fromMs, toMs, afterSeq, limit);
  }

  /** For GET /api/price (through the edge cache): the latest tick, the feed's state and the 24-hour figures. */
  snapshot(): { latest: Tick | null; status: StatusMessage; stats24h: Partial<Record<Currency, PriceStats>> } {
    this.httpReads.count("price");
    return { latest: this.history.latest(), status: this.status(), stats24h: this.history.dayStats() };
  }

  status(): StatusMessage {
    return feedStatus(this.state);
  }

  async health(): Promise<HubHealth> {
    this.httpReads.count("health");
    const config = this.config;
    return buildHealth({
      config,
      state: this.state,
      poller: this.ctx.storage.kv.get<PollerState>("poller") ?? initialPollerState(),
      latest: this.history.latest(),
      subscribers: this.subscriberCount(),
      alarmAtMs: await this.ctx.storage.getAlarm(),
      httpReads: this.httpReads.report(),
      nowMs: Date.now(),
    });
  }

  /** For GET /api/candles (through the edge cache; counted with the history reads): one page, JSON built by SQLite. */
  candlesPage(currency: Currency, bucketS: number, fromMs: number, toMs: number, limit: number): CandlePage {
    this.httpReads.count("history");
    return this.history.candlePage(currency, bucketS, fromMs, toMs, limit);
  }
}

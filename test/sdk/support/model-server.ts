/**
 * A reference server for the model-based test: the protocol's promises (welcome, replay by
 * last_seq with gap when its history is too short, replay_end, the snapshot after an empty
 * replay, live ticks filtered by currency, reset on a foreign epoch, ping/pong), plus the faults a
 * real one has: restarts that drop every socket, a refusing or hanging listener, a connection that
 * dies silently, a replay that repeats ticks the client had, and a history wiped under a new epoch.
 * Frames go out through the fake clock (a little latency), never synchronously.
 */
import { SUPPORTED_CURRENCIES, type Currency } from "../../../src/protocol";
import { OPEN, type FakeClock, type FakeSocket } from "./fakes";

export interface ModelTick {
  seq: number;
  ts: number;
  prices: Record<Currency, number>;
  changed: Currency[];
}

const LATENCY_MS = 5;
/** The model's HEARTBEAT_S: every live socket hears at least this often. */
export const MODEL_HEARTBEAT_S = 5;
const POLL_MS = 1000;

export class ModelServer {
  epoch = "e1";
  private epochs = 1;
  /** Every tick of the current epoch (the truth); `retention` limits what a replay can reach. */
  ticks: ModelTick[] = [];
  /** Every epoch's ticks, kept for the checks after a wipe. */
  readonly history = new Map<string, ModelTick[]>([["e1", this.ticks]]);
  mode: "up" | "down" | "hang" = "up";
  /** The next resume also replays this many ticks at or below last_seq (as after a restart). */
  repeatOnResume = 0;
  /** The next resume ignores last_seq and goes live at once (an old or buggy server). */
  forgetNextReplay = false;
  /** Seqs a forgetful resume skipped: the client cannot know them, so a gap may name them. */
  readonly forgotten = new Set<string>();
  private readonly live = new Set<FakeSocket>();
  private readonly frozen = new Set<FakeSocket>();
  /** Sockets the feed stopped sending to (a stuck session) while the runtime still answers `ping`. */
  private readonly muted = new Set<FakeSocket>();
  private readonly currenciesOf = new Map<FakeSocket, Currency[]>();
  /** When a live socket was last sent a price or a heartbeat (or went live). */
  private readonly lastSentAt = new Map<FakeSocket, number>();
  private prices: Record<Currency, number> = Object.fromEntries(
    SUPPORTED_CURRENCIES.map((c, i) => [c, 1000 * (i + 1)]),
  ) as Record<Currency, number>;

  constructor(
    private readonly clock: FakeClock,
    readonly retention: number,
  ) {
    // The hub's poll: a beat reaches the sockets that were sent nothing for HEARTBEAT_S, as in the session.
    const poll = () => {
      for (const socket of this.live) if (this.heartbeatDue(socket)) this.sendHeartbeat(socket);
      this.clock.setTimeout(poll, POLL_MS);
    };
    this.clock.setTimeout(poll, POLL_MS);
  }

  /**
   * Every live socket hears the head seq, as from a session: every tick up to it that concerns the
   * socket was sent on it (except after a forgetful resume: that is the hole a heartbeat shows).
   */
  heartbeat(): void {
    for (const socket of this.live) this.sendHeartbeat(socket);
  }

  private heartbeatDue(socket: FakeSocket): boolean {
    return this.clock.now() - (this.lastSentAt.get(socket) ?? 0) >= MODEL_HEARTBEAT_S * 1000;
  }

  private sendHeartbeat(socket: FakeSocket): void {
    const seq = this.ticks.at(-1)?.seq ?? 0;
    this.lastSentAt.set(socket, this.clock.now());
    this.sendTo(socket, { type: "heartbeat", seq, time: new Date(this.clock.now()).toISOString() });
  }

  /** The open connections still answer `ping` but hear nothing else: only the silence gives it away. */
  mute(): void {
    for (const socket of this.live) this.muted.add(socket);
    this.live.clear();
  }

  private later(fn: () => void): void {
    this.clock.setTimeout(fn, LATENCY_MS);
  }

  private sendTo(socket: FakeSocket, frame: object | string): void {
    this.later(() => {
      if (socket.readyState === OPEN && !this.frozen.has(socket)) socket.receive(frame);
    });
  }

  /** The client created a socket. */
  accept(socket: FakeSocket): void {
    const originalSend = socket.send.bind(socket);
    socket.send = (data: string) => {
      originalSend(data);
      if (data === "ping") this.sendTo(socket, "pong");
    };
    this.later(() => {
      if (socket.readyState !== 0 || socket.closedByClient) return;
      if (this.mode === "down") return socket.drop(1006);
      if (this.mode === "hang") return;
      socket.open();
      this.start(socket);
    });
  }

  private start(socket: FakeSocket): void {
    const q = socket.query;
    const currencies = (q.get("currencies") ?? "USD").split(",") as Currency[];
    this.currenciesOf.set(socket, currencies);
    this.sendTo(socket, {
      type: "welcome",
      client_id: q.get("client_id") ?? "gen",
      currencies,
      resumed: q.has("client_id"),
      interval_ms: 1000,
      epoch: this.epoch,
      heartbeat_s: MODEL_HEARTBEAT_S,
    });
    const latest = this.ticks.at(-1);
    const lastSeqParam = q.get("last_seq");
    // As the session does (planResume): an epoch that is not the current one is reset, with or without last_seq.
    const epoch = q.get("epoch");
    const resetFrom = epoch !== null && epoch !== this.epoch ? epoch : null;
    if (resetFrom !== null) this.sendReset(socket, resetFrom);
    if (lastSeqParam !== null) {
      const lastSeq = Number(lastSeqParam);
      if (this.forgetNextReplay) {
        this.forgetNextReplay = false;
        for (const t of this.ticks) if (t.seq > lastSeq) this.forgotten.add(`${this.epoch}:${t.seq}`);
      } else if (resetFrom !== null) {
        this.sendTo(socket, { type: "replay_end", count: 0 });
        if (latest) this.sendTo(socket, this.frame(latest, currencies, false));
      } else {
        const from = Math.max(0, lastSeq + 1 - this.repeatOnResume);
        this.repeatOnResume = 0;
        const kept = this.ticks.slice(-this.retention);
        const first = kept[0];
        if (first && first.seq > lastSeq + 1)
          this.sendTo(socket, { type: "gap", from_seq: lastSeq + 1, to_seq: first.seq - 1 });
        const replay = kept.filter((t) => t.seq >= from && this.concerns(t, currencies));
        for (const t of replay) this.sendTo(socket, this.frame(t, currencies, true));
        this.sendTo(socket, { type: "replay_end", count: replay.length });
        // On a resume the client may hold the snapshot already, so it comes as replayed.
        if (replay.length === 0 && latest) this.sendTo(socket, this.frame(latest, currencies, true));
      }
    } else if (latest) {
      this.sendTo(socket, this.frame(latest, currencies, false));
    }
    // Live from now on: a tick published after this replay was planned goes out after it.
    this.live.add(socket);
    this.lastSentAt.set(socket, this.clock.now());
  }

  private concerns(tick: ModelTick, currencies: readonly Currency[]): boolean {
    return currencies.some((c) => tick.changed.includes(c));
  }

  private frame(tick: ModelTick, currencies: readonly Currency[], replayed: boolean) {
    const prices: Partial<Record<Currency, number>> = {};
    for (const c of currencies) prices[c] = tick.prices[c];
    return {
      type: "price",
      seq: tick.seq,
      ts: tick.ts,
      time: new Date(tick.ts * 1000).toISOString(),
      prices,
      sources: ["model"],
      replayed,
    };
  }

  publish(changed: Currency[]): ModelTick {
    for (const c of changed) this.prices[c] = Math.round((this.prices[c] + 1.25) * 100) / 100;
    const tick: ModelTick = {
      seq: (this.ticks.at(-1)?.seq ?? 0) + 1,
      ts: Math.floor(this.clock.now() / 1000),
      prices: { ...this.prices },
      changed,
    };
    this.ticks.push(tick);
    for (const socket of this.live) {
      if (socket.readyState !== OPEN) this.live.delete(socket);
      else if (this.concerns(tick, this.currenciesOf.get(socket) ?? [])) {
        this.lastSentAt.set(socket, this.clock.now());
        this.sendTo(socket, this.frame(tick, this.currenciesOf.get(socket)!, false));
      } else if (this.heartbeatDue(socket)) this.sendHeartbeat(socket);
    }
    return tick;
  }

  /** A restart: every socket drops; the history (and epoch) stays. */
  restart(): void {
    for (const socket of [...this.live, ...this.frozen, ...this.muted]) socket.drop(1006);
    this.live.clear();
    this.frozen.clear();
    this.muted.clear();
  }

  /** The open connections stop answering without closing (a dead NAT mapping, a frozen peer). */
  freeze(): void {
    for (const socket of this.live) this.frozen.add(socket);
    this.live.clear();
  }

  /** The history is lost: a new epoch whose seq numbering starts again. */
  wipe(): void {
    this.restart();
    this.newEpoch();
  }

  /**
   * The history is lost while the sockets stay open (the hub lost its storage, the sessions did not):
   * each live socket is told with a `reset`, as a session tells its sockets when its shard's next
   * event names another epoch; the ticks that follow are the new epoch's.
   */
  wipeUnderOpenSockets(): void {
    const previous = this.epoch;
    this.newEpoch();
    for (const socket of this.live) this.sendReset(socket, previous);
  }

  private newEpoch(): void {
    this.epoch = `e${++this.epochs}`;
    this.ticks = [];
    this.history.set(this.epoch, this.ticks);
  }

  private sendReset(socket: FakeSocket, previous: string): void {
    this.sendTo(socket, { type: "reset", epoch: this.epoch, previous_epoch: previous, message: "history wiped" });
  }

  /** The oldest seq a replay can still reach. */
  get firstRetainedSeq(): number {
    return this.ticks.slice(-this.retention)[0]?.seq ?? 1;
  }
}

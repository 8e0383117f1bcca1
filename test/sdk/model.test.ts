/**
 * Model-based test of the client library against a reference server with faults (restarts, a
 * refusing or hanging listener, silent deaths, repeated replays, short history, wiped history,
 * page reloads, a resume answered without its replay), on a fake clock. After every step: per
 * epoch, `price` fired at most once per seq and in increasing order; every seq from the first to
 * the latest either fired, lies in a `gap`, or was a tick that did not move the client's
 * currencies; a gap only names ticks the server could no longer replay; prices are the server's.
 * At the end, with the server healthy, the client is open and has caught up.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Currency } from "../../src/protocol";
import { memoryStorage, PriceFeedClient, type KeyValueStorage } from "../../src/sdk";
import { FakeClock, fakeWebSocket } from "./support/fakes";
import { MODEL_HEARTBEAT_S, ModelServer } from "./support/model-server";

type Entry =
  | { kind: "price"; epoch: string; seq: number; prices: Partial<Record<Currency, number>> }
  | { kind: "gap"; epoch: string; fromSeq: number; toSeq: number };

const PUBLISHED: Currency[] = ["USD", "EUR", "GBP", "JPY"];

class Harness {
  readonly clock = new FakeClock();
  readonly server: ModelServer;
  readonly storage: KeyValueStorage = memoryStorage();
  readonly log: Entry[] = [];
  readonly problems: string[] = [];
  feed!: PriceFeedClient;
  private readonly sockets;

  constructor(
    readonly currencies: Currency[],
    retention: number,
  ) {
    this.server = new ModelServer(this.clock, retention);
    this.sockets = fakeWebSocket((s) => this.server.accept(s));
    this.open();
  }

  open(): void {
    const feed = new PriceFeedClient({
      url: "ws://model.test/pricefeed",
      currencies: this.currencies,
      storage: this.storage,
      WebSocket: this.sockets.WebSocket,
      clock: this.clock,
      random: () => 0.5,
    });
    feed.on("price", (t) => this.log.push({ kind: "price", epoch: feed.epoch!, seq: t.seq, prices: t.prices }));
    feed.on("gap", (g) => {
      this.log.push({ kind: "gap", epoch: feed.epoch!, ...g });
      // A gap names only ticks the server could no longer replay, or skipped without saying so.
      if (feed.epoch !== this.server.epoch) return;
      for (const t of this.server.ticks) {
        if (t.seq < g.fromSeq || t.seq > g.toSeq || t.seq < this.server.firstRetainedSeq) continue;
        const concerns = this.currencies.some((c) => t.changed.includes(c));
        if (concerns && !this.server.forgotten.has(`${this.server.epoch}:${t.seq}`)) {
          this.problems.push(
            `gap ${g.fromSeq}-${g.toSeq} names tick ${t.seq}, ` +
              `which the server still has (from #${this.server.firstRetainedSeq})`,
          );
        }
      }
    });
    this.feed = feed;
    feed.start();
  }

  reload(): void {
    this.feed.close();
    this.open();
  }

  check(): void {
    expect(this.problems).toEqual([]);
    for (const [epoch, ticks] of this.server.history) {
      const entries = this.log.filter((e) => e.epoch === epoch);
      const logged = () => JSON.stringify(entries.map((x) => (x.kind === "price" ? x.seq : `${x.fromSeq}-${x.toSeq}`)));
      let last = -Infinity;
      const accounted = new Set<number>();
      for (const e of entries) {
        const [from, to] = e.kind === "price" ? [e.seq, e.seq] : [e.fromSeq, e.toSeq];
        if (from <= last)
          throw new Error(`epoch ${epoch}: ${e.kind} ${from}-${to} after ${last}: not increasing (log ${logged()})`);
        last = to;
        for (let s = from; s <= to; s++) accounted.add(s);
        if (e.kind === "price") {
          const tick = ticks.find((t) => t.seq === e.seq);
          if (!tick) throw new Error(`epoch ${epoch}: price ${e.seq} was never published`);
          for (const c of this.currencies) expect(e.prices[c]).toBe(tick.prices[c]);
        }
      }
      const first = entries.find((e) => e.kind === "price");
      if (first?.kind !== "price") continue;
      for (const tick of ticks) {
        if (tick.seq <= first.seq || tick.seq > last) continue;
        const concerns = this.currencies.some((c) => tick.changed.includes(c));
        if (concerns && !accounted.has(tick.seq)) {
          throw new Error(
            `epoch ${epoch}: tick ${tick.seq} (changed ${tick.changed}) neither fired nor in a gap; log ${logged()}`,
          );
        }
      }
    }
  }
}

type Cmd = fc.Command<object, Harness>;
const command = (name: string, act: (h: Harness) => void): Cmd => ({
  check: () => true,
  run: (_m, h) => {
    act(h);
    h.check();
  },
  toString: () => name,
});

/** A tick, then the time to the next poll (the feed's cadence). */
const publish = fc
  .tuple(fc.subarray(PUBLISHED, { minLength: 1 }), fc.integer({ min: 1, max: 5000 }))
  .map(([changed, ms]) =>
    command(`publish(${changed})+${ms}`, (h) => {
      h.server.publish(changed);
      h.clock.advance(ms);
    }),
  );

const downFor = fc.integer({ min: 1, max: 60_000 });

const commands = [
  publish,
  publish,
  publish,
  publish,
  publish,
  publish,
  fc.integer({ min: 1, max: 40_000 }).map((ms) => command(`advance(${ms})`, (h) => h.clock.advance(ms))),
  fc.constant(command("restart", (h) => h.server.restart())),
  downFor.map((ms) =>
    command(`outage(${ms})`, (h) => {
      h.server.restart();
      h.server.mode = "down";
      h.clock.advance(ms);
      h.server.mode = "up";
    }),
  ),
  downFor.map((ms) =>
    command(`hang(${ms})`, (h) => {
      h.server.restart();
      h.server.mode = "hang";
      h.clock.advance(ms);
      h.server.mode = "up";
    }),
  ),
  fc.constant(command("freeze", (h) => h.server.freeze())),
  fc.constant(command("mute", (h) => h.server.mute())),
  fc.constant(command("heartbeat", (h) => h.server.heartbeat())),
  fc.integer({ min: 1, max: 3 }).map((k) => command(`repeatOnResume(${k})`, (h) => (h.server.repeatOnResume = k))),
  fc.constant(command("forgetNextReplay", (h) => (h.server.forgetNextReplay = true))),
  fc.constant(command("wipe", (h) => h.server.wipe())),
  fc.constant(command("wipeUnderOpenSockets", (h) => h.server.wipeUnderOpenSockets())),
  fc.constant(command("reload", (h) => h.reload())),
];

describe("PriceFeedClient against a faulty reference server (model-based)", () => {
  it("never repeats or reorders a seq, accounts for every seq, and catches up once the server is healthy", () => {
    fc.assert(
      fc.property(
        fc.subarray(["USD", "EUR", "GBP"] as Currency[], { minLength: 1 }),
        fc.integer({ min: 2, max: 12 }),
        fc.commands(commands, { maxCommands: 80, size: "+1" }),
        (currencies, retention, cmds) => {
          const h = new Harness(currencies, retention);
          fc.modelRun(() => ({ model: {}, real: h }), cmds);
          // Heal: the server is up and answers; the client must get back and catch up.
          h.server.mode = "up";
          for (let i = 0; i < 120; i++) h.clock.advance(1000);
          const tick = h.server.publish(PUBLISHED);
          h.clock.advance(100);
          h.check();
          expect(h.feed.state).toBe("open");
          expect(h.feed.lastSeq).toBe(tick.seq);
          expect(h.log.at(-1)).toMatchObject({ kind: "price", seq: tick.seq, epoch: h.server.epoch });
          // Then a quiet market with moves in other currencies only: heartbeats keep the connection,
          // which neither stalls nor resumes, and name the head seq.
          const downs: string[] = [];
          const beats: number[] = [];
          h.feed.on("state", (state, detail) => state !== "open" && downs.push(`${state}:${detail.reason}`));
          h.feed.on("heartbeat", (b) => beats.push(b.seq));
          const other = h.server.publish(["JPY"]);
          for (let i = 0; i < 6 * MODEL_HEARTBEAT_S; i++) h.clock.advance(1000);
          expect(downs).toEqual([]);
          expect(beats.length).toBeGreaterThanOrEqual(5);
          expect(beats.at(-1)).toBe(other.seq);
          h.feed.close();
        },
      ),
      { numRuns: 200 },
    );
  });
});

import { describe, expect, it } from "vitest";
import { welcomeMessage, type ServerMessage } from "../../src/protocol";
import { connecting, createLedger, step, type Ledger, type LedgerOutput } from "../../src/sdk/ledger";

const price = (seq: number, replayed = false): ServerMessage => ({
  type: "price",
  seq,
  ts: 1_764_000_000 + seq,
  time: new Date((1_764_000_000 + seq) * 1000).toISOString(),
  prices: { USD: 90_000 + seq },
  sources: ["simulated"],
  replayed,
});
const welcome = (epoch = "e1"): ServerMessage =>
  welcomeMessage({ client_id: "c1", currencies: ["USD"], resumed: true, interval_ms: 5000, epoch, heartbeat_s: 30 });
const gap = (from: number, to: number): ServerMessage => ({ type: "gap", from_seq: from, to_seq: to });

/** Runs frames through the ledger; returns the final ledger and a compact log of the outputs. */
function run(ledger: Ledger, ...msgs: ServerMessage[]): [Ledger, string[]] {
  const log: string[] = [];
  for (const msg of msgs) {
    let out: LedgerOutput[];
    [ledger, out] = step(ledger, msg);
    for (const o of out) {
      if (o.kind === "price") log.push(`price ${o.tick.seq}${o.tick.replayed ? "r" : ""}`);
      else if (o.kind === "gap") log.push(`gap ${o.range.fromSeq}-${o.range.toSeq}`);
      else if (o.kind === "reset") log.push(`reset ${o.info.previousEpoch}>${o.info.epoch}`);
      else if (o.kind === "replay_end") log.push(`replay_end ${o.count}`);
      else if (o.kind === "hole") log.push(`hole ${o.seq}`);
      else log.push(`dup ${o.seq}`);
    }
  }
  return [ledger, log];
}

describe("ledger: a fresh start", () => {
  it("takes the first tick as the start and trusts the live stream's skips", () => {
    const [l, log] = run(connecting(createLedger()), welcome(), price(7), price(9), price(12));
    expect(log).toEqual(["price 7", "price 9", "price 12"]);
    expect(l).toMatchObject({ lastSeq: 12, epoch: "e1" });
  });

  it("drops a tick at or below the last one: duplicates and anything out of order", () => {
    const [l, log] = run(connecting(createLedger()), welcome(), price(7), price(7), price(8), price(5, true), price(9));
    expect(log).toEqual(["price 7", "dup 7", "price 8", "dup 5", "price 9"]);
    expect(l.lastSeq).toBe(9);
  });

  it("reports a gap before the first tick (a start_timedate replay cut at MAX_REPLAY)", () => {
    const [l, log] = run(
      connecting(createLedger()),
      welcome(),
      gap(3, 9),
      price(10, true),
      { type: "replay_end", count: 1 },
      price(11),
    );
    expect(log).toEqual(["gap 3-9", "price 10r", "replay_end 1", "price 11"]);
    expect(l.lastSeq).toBe(11);
  });
});

describe("ledger: a resume with last_seq", () => {
  const resumed = () => connecting(createLedger({ epoch: "e1", lastSeq: 10 }));

  it("asks for it on connect and is not vouched for until the server replays", () => {
    const l = resumed();
    expect(l).toMatchObject({ resuming: true, vouched: false, lastSeq: 10 });
  });

  it("trusts a replay's skips (it is every tick after last_seq that concerns the feed)", () => {
    const [l, log] = run(
      resumed(),
      welcome(),
      price(12, true),
      price(15, true),
      { type: "replay_end", count: 2 },
      price(18),
    );
    expect(log).toEqual(["price 12r", "price 15r", "replay_end 2", "price 18"]);
    expect(l.lastSeq).toBe(18);
  });

  it("trusts the snapshot after an empty replay, and drops it when it is the tick we have", () => {
    expect(run(resumed(), welcome(), { type: "replay_end", count: 0 }, price(14))[1]).toEqual([
      "replay_end 0",
      "price 14",
    ]);
    expect(run(resumed(), welcome(), { type: "replay_end", count: 0 }, price(10))[1]).toEqual([
      "replay_end 0",
      "dup 10",
    ]);
  });

  it("turns a jump nobody vouched for into a gap: a live tick where the replay should have been", () => {
    const [l, log] = run(resumed(), welcome(), price(14), price(16));
    expect(log).toEqual(["gap 11-13", "price 14", "price 16"]);
    expect(l.lastSeq).toBe(16);
  });

  it("is vouched for again on every new connection only after its replay", () => {
    let [l] = run(resumed(), welcome(), { type: "replay_end", count: 0 }, price(11));
    l = connecting(l);
    expect(l).toMatchObject({ resuming: true, vouched: false, lastSeq: 11 });
  });

  it("clips a server gap to what is not accounted for yet, and moves last_seq past it", () => {
    expect(run(resumed(), welcome(), gap(11, 20), price(21, true))[1]).toEqual(["gap 11-20", "price 21r"]);
    expect(run(resumed(), welcome(), gap(5, 20))[1]).toEqual(["gap 11-20"]);
    expect(run(resumed(), welcome(), gap(3, 9))[1]).toEqual([]);
    // Unvouched, the seqs between last_seq and the gap's start are not known to be covered.
    expect(run(resumed(), welcome(), gap(15, 20))[1]).toEqual(["gap 11-20"]);
    // Vouched (live), they are ticks that did not concern the feed.
    const [l, log] = run(resumed(), welcome(), { type: "replay_end", count: 0 }, gap(15, 20), price(22));
    expect(log).toEqual(["replay_end 0", "gap 15-20", "price 22"]);
    expect(l.lastSeq).toBe(22);
    // Nonsense ranges change nothing.
    expect(run(resumed(), welcome(), gap(20, 15))[1]).toEqual([]);
  });

  it("counts the replayed ticks it delivered, not the ones it dropped", () => {
    const [, log] = run(resumed(), welcome(), price(9, true), price(10, true), price(11, true), {
      type: "replay_end",
      count: 3,
    });
    expect(log).toEqual(["dup 9", "dup 10", "price 11r", "replay_end 1"]);
  });
});

describe("ledger: epochs", () => {
  it("resets when the welcome names another epoch than the one last_seq belongs to", () => {
    const [l, log] = run(connecting(createLedger({ epoch: "e1", lastSeq: 500 })), welcome("e2"), price(3));
    expect(log).toEqual(["reset e1>e2", "price 3"]);
    expect(l).toMatchObject({ epoch: "e2", lastSeq: 3 });
  });

  it("takes a reset frame once per connection, whether or not the welcome said it first", () => {
    const reset: ServerMessage = { type: "reset", epoch: "e2", previous_epoch: "e1", message: "history wiped" };
    expect(run(connecting(createLedger({ epoch: "e1", lastSeq: 500 })), welcome("e2"), reset, price(3))[1]).toEqual([
      "reset e1>e2",
      "price 3",
    ]);
    expect(run(connecting(createLedger({ epoch: "e1", lastSeq: 500 })), welcome("e1"), reset, price(3))[1]).toEqual([
      "reset e1>e2",
      "price 3",
    ]);
  });

  it("adopts the first epoch it hears, and an epoch when it had none for its last_seq", () => {
    expect(run(connecting(createLedger()), welcome("e9"))[0].epoch).toBe("e9");
    const [l, log] = run(
      connecting(createLedger({ lastSeq: 10 })),
      welcome("e9"),
      { type: "replay_end", count: 0 },
      price(11),
    );
    expect(log).toEqual(["replay_end 0", "price 11"]);
    expect(l.epoch).toBe("e9");
  });

  it("keeps its epoch when an older server sends none", () => {
    expect(run(connecting(createLedger({ epoch: "e1", lastSeq: 10 })), welcome(""))[0]).toMatchObject({
      epoch: "e1",
      lastSeq: 10,
    });
  });
});

describe("ledger: heartbeats", () => {
  const beat = (seq: number): ServerMessage => ({ type: "heartbeat", seq, time: new Date(0).toISOString() });

  it("on a vouched connection, seqs up to a heartbeat are ticks that did not move the feed: no hole", () => {
    const [l, log] = run(connecting(createLedger()), welcome(), price(7), beat(12), beat(7), beat(3));
    expect(log).toEqual(["price 7"]);
    expect(l.lastSeq).toBe(7);
  });

  it("on a resume not yet vouched (no replayed tick, no replay_end), a heartbeat past lastSeq is a hole", () => {
    const [, log] = run(connecting(createLedger({ epoch: "e1", lastSeq: 7 })), welcome(), beat(7), beat(9));
    expect(log).toEqual(["hole 9"]);
  });

  it("the resume that follows a hole vouches for it: the same heartbeat seq does not trigger again", () => {
    let [l, log] = run(connecting(createLedger({ epoch: "e1", lastSeq: 7 })), welcome(), beat(9));
    expect(log).toEqual(["hole 9"]);
    // The next connection's replay brought nothing for the feed's currencies: seqs 8-9 moved others.
    [l, log] = run(connecting(l), welcome(), { type: "replay_end", count: 0 }, beat(9), beat(9));
    expect(log).toEqual(["replay_end 0"]);
    expect(l.lastSeq).toBe(7);
  });
});

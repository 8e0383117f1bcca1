import { describe, expect, it } from "vitest";
import { carryDisputes, feedStatus, nextCondition, statusKey, type FeedCondition } from "../../src/hub/feed-status";
import type { Dispute } from "../../src/protocol";

const INTERVAL = 1000;
const everyCurrency = () => true;
const usdDispute: Dispute = { currency: "USD", quotes: { bitstamp: 100, kraken: 1000 } };
const jpyDispute: Dispute = { currency: "JPY", quotes: { kraken: 150_000 } };
const start: FeedCondition & { startedAtMs: number } = {
  startedAtMs: 0,
  lastFreshAtMs: null,
  lastHeardAtMs: null,
  staleSinceMs: null,
  disputes: [],
  disputedSinceMs: null,
};

describe("carryDisputes", () => {
  it("keeps a currency disputed through a poll that got no quote for it, until one publishes it", () => {
    expect(carryDisputes([usdDispute, jpyDispute], { prices: {}, disputes: [] }, everyCurrency)).toEqual([
      usdDispute,
      jpyDispute,
    ]);
    expect(carryDisputes([usdDispute, jpyDispute], { prices: { USD: 100 }, disputes: [] }, everyCurrency)).toEqual([
      jpyDispute,
    ]);
  });

  it("takes this poll's quotes, in the supported order", () => {
    const newer: Dispute = { currency: "USD", quotes: { bitstamp: 101, kraken: 1010 } };
    expect(carryDisputes([usdDispute], { prices: {}, disputes: [jpyDispute, newer] }, everyCurrency)).toEqual([
      newer,
      jpyDispute,
    ]);
  });

  it("drops a currency no enabled source quotes any more", () => {
    expect(carryDisputes([usdDispute, jpyDispute], { prices: {}, disputes: [] }, (c) => c === "USD")).toEqual([
      usdDispute,
    ]);
  });
});

describe("nextCondition and feedStatus", () => {
  it("is disputed, not stale, while sources answer but disagree, and live once a poll publishes", () => {
    let c = nextCondition(start, { prices: { EUR: 90 }, disputes: [usdDispute] }, 1000, INTERVAL, everyCurrency);
    expect(feedStatus(c)).toEqual({ type: "status", state: "disputed", since: 1, disputes: [usdDispute] });
    for (let t = 2000; t <= 10_000; t += 1000) {
      c = nextCondition({ ...c, startedAtMs: 0 }, { prices: {}, disputes: [usdDispute] }, t, INTERVAL, everyCurrency);
    }
    expect(feedStatus(c)).toMatchObject({ state: "disputed", since: 1 });
    expect(c).toMatchObject({ lastFreshAtMs: 1000, lastHeardAtMs: 10_000, staleSinceMs: null });
    c = nextCondition(
      { ...c, startedAtMs: 0 },
      { prices: { USD: 100 }, disputes: [] },
      11_000,
      INTERVAL,
      everyCurrency,
    );
    expect(feedStatus(c)).toEqual({ type: "status", state: "live" });
    expect(c.disputedSinceMs).toBeNull();
  });

  it("is stale after three intervals without any quote, which outranks a dispute", () => {
    let c = nextCondition(start, { prices: {}, disputes: [usdDispute] }, 1000, INTERVAL, everyCurrency);
    for (const t of [2000, 3000, 4000])
      c = nextCondition({ ...c, startedAtMs: 0 }, { prices: {}, disputes: [] }, t, INTERVAL, everyCurrency);
    expect(feedStatus(c)).toMatchObject({ state: "disputed" });
    c = nextCondition({ ...c, startedAtMs: 0 }, { prices: {}, disputes: [] }, 4001, INTERVAL, everyCurrency);
    expect(feedStatus(c)).toEqual({ type: "status", state: "stale", since: 1 });
    expect(c.disputes).toEqual([usdDispute]);
    // Quotes again, still disagreeing: disputed since the dispute began.
    c = nextCondition({ ...c, startedAtMs: 0 }, { prices: {}, disputes: [usdDispute] }, 5000, INTERVAL, everyCurrency);
    expect(feedStatus(c)).toMatchObject({ state: "disputed", since: 1 });
  });

  it("reads a condition stored before disputes existed", () => {
    const old = { startedAtMs: 0, lastFreshAtMs: 500, staleSinceMs: null } as unknown as FeedCondition & {
      startedAtMs: number;
    };
    expect(feedStatus(old)).toEqual({ type: "status", state: "live" });
    const c = nextCondition(old, { prices: {}, disputes: [] }, 2000, INTERVAL, everyCurrency);
    expect(c).toMatchObject({ lastHeardAtMs: 500, disputes: [] });
  });
});

describe("statusKey", () => {
  const disputed = (disputes: Dispute[]) => ({
    type: "status" as const,
    state: "disputed" as const,
    since: 1,
    disputes,
  });

  it("changes with the disputed currencies and their sources, not with the quoted values", () => {
    const moved: Dispute = { currency: "USD", quotes: { kraken: 1001, bitstamp: 100.5 } };
    expect(statusKey(disputed([usdDispute]))).toBe(statusKey(disputed([moved])));
    expect(statusKey(disputed([usdDispute]))).not.toBe(statusKey(disputed([usdDispute, jpyDispute])));
    expect(statusKey(disputed([usdDispute]))).not.toBe(
      statusKey(disputed([{ currency: "USD", quotes: { bitstamp: 100 } }])),
    );
    expect(statusKey({ type: "status", state: "stale", since: 5 })).toBe(
      statusKey({ type: "status", state: "stale", since: 9 }),
    );
    expect(statusKey({ type: "status", state: "live" })).not.toBe(statusKey(disputed([])));
  });
});

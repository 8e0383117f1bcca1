import { afterEach, describe, expect, it, vi } from "vitest";
import type { FanoutEvent } from "../../src/contracts";
import { decodeEvent, encodeEvent } from "../../src/relay/event-wire";

const epoch = { id: "e", startSeq: 1 };
const tickEvent: FanoutEvent = {
  kind: "tick",
  tick: { seq: 7, tsMs: 7000, prices: { USD: 1.5, EUR: 2 }, changed: ["USD"], sources: ["a", "b"] },
  epoch,
  backlog: { ticks: [], gap: { fromSeq: 3, toSeq: 6 } },
};

afterEach(() => vi.restoreAllMocks());

describe("event wire", () => {
  it("gives every member the event it was sent, whatever its kind", () => {
    const events: FanoutEvent[] = [
      tickEvent,
      { kind: "beat", epoch, headSeq: 7, atMs: 9 },
      { kind: "status", status: { type: "status", state: "stale", since: 5 }, atMs: 9 },
    ];
    for (const event of events) expect(decodeEvent(encodeEvent(event))).toEqual(event);
    expect(decodeEvent(tickEvent)).toBe(tickEvent);
  });

  it("encodes an event once for all the members of a batch, and a changed copy again", () => {
    const stringify = vi.spyOn(JSON, "stringify");
    const event: FanoutEvent = { kind: "beat", epoch, headSeq: 8, atMs: 1 };
    for (let i = 0; i < 500; i++) encodeEvent(event);
    expect(stringify).toHaveBeenCalledTimes(1);
    expect(decodeEvent(encodeEvent({ ...event, headSeq: 9 }))).toMatchObject({ headSeq: 9 });
    expect(stringify).toHaveBeenCalledTimes(2);
  });
});

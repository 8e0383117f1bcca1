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

  it("decodes a text once for all the sessions of an isolate, and shares it read-only", () => {
    const parse = vi.spyOn(JSON, "parse");
    const text = encodeEvent({ ...tickEvent, tick: { ...tickEvent.tick, seq: 8 } });
    const first = decodeEvent(text);
    for (let i = 0; i < 100; i++) expect(decodeEvent(`${text}`)).toBe(first);
    expect(parse).toHaveBeenCalledTimes(1);
    expect(Object.isFrozen(first.kind === "tick" && first.tick.prices)).toBe(true);
    expect(() => {
      if (first.kind === "tick") (first.tick as { seq: number }).seq = 9;
    }).toThrow(TypeError);
    // Another event is decoded anew, and the last few stay known.
    const beat = encodeEvent({ kind: "beat", epoch, headSeq: 8, atMs: 2 });
    expect(decodeEvent(beat)).toMatchObject({ kind: "beat", headSeq: 8 });
    expect(decodeEvent(text)).toBe(first);
    expect(parse).toHaveBeenCalledTimes(2);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseLastEventId, sseEvent, wantsEventStream } from "../../src/protocol";
import { serverFrame } from "../support/frame-arbitraries";

describe("frames as Server-Sent Events", () => {
  it("names each event after its frame and carries the frame's JSON exactly as its data", () => {
    fc.assert(
      fc.property(serverFrame, (frame) => {
        const text = JSON.stringify(frame);
        const { chunk } = sseEvent(text, { epoch: "e1" });
        const lines = chunk.split("\n");
        expect(lines[0]).toBe(`event: ${frame.type}`);
        expect(lines.filter((l) => l.startsWith("data: "))).toEqual([`data: ${text}`]);
        expect(chunk.endsWith("\n\n")).toBe(true);
      }),
    );
  });

  it("gives price, gap and heartbeat events the id to resume from, in the epoch the welcome or a reset named", () => {
    const welcome = { type: "welcome", epoch: "e1" };
    let cursor = sseEvent(JSON.stringify(welcome), { epoch: null }).cursor;
    expect(cursor.epoch).toBe("e1");
    expect(sseEvent('{"type":"price","seq":7}', cursor).chunk).toContain("\nid: e1:7\n");
    expect(sseEvent('{"type":"gap","from_seq":8,"to_seq":9}', cursor).chunk).toContain("\nid: e1:9\n");
    expect(sseEvent('{"type":"heartbeat","seq":12,"time":"x"}', cursor).chunk).toContain("\nid: e1:12\n");
    expect(sseEvent('{"type":"replay_end","count":0}', cursor).chunk).not.toContain("id:");
    cursor = sseEvent('{"type":"reset","epoch":"e2","previous_epoch":"e1","message":""}', cursor).cursor;
    expect(sseEvent('{"type":"price","seq":1}', cursor).chunk).toContain("\nid: e2:1\n");
    // Before any welcome there is no epoch to name: no id.
    expect(sseEvent('{"type":"price","seq":1}', { epoch: null }).chunk).not.toContain("id:");
  });

  it("sends what is not a frame as a plain message, a line break never ending the data early", () => {
    expect(sseEvent("pong", { epoch: null }).chunk).toBe("event: message\ndata: pong\n\n");
    expect(sseEvent("a\nb", { epoch: null }).chunk).toBe("event: message\ndata: a\ndata: b\n\n");
  });

  it("reads Last-Event-ID back as the epoch and seq to resume from, and nothing else", () => {
    expect(parseLastEventId("uX2bq1Lr8Zk0aP3d:42")).toEqual({ epoch: "uX2bq1Lr8Zk0aP3d", lastSeq: 42 });
    for (const bad of [null, "", "42", "e1:", ":4", "e1:-1", "e 1:4", "e1:4.5", `e1:${"9".repeat(16)}`]) {
      expect(parseLastEventId(bad)).toBeNull();
    }
  });

  it("knows an EventSource's Accept", () => {
    expect(wantsEventStream("text/event-stream")).toBe(true);
    expect(wantsEventStream("text/html, text/event-stream;q=0.9")).toBe(true);
    expect(wantsEventStream("text/event-streamer")).toBe(false);
    expect(wantsEventStream("*/*")).toBe(false);
    expect(wantsEventStream(null)).toBe(false);
  });
});

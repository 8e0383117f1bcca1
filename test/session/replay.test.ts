import { describe, expect, it } from "vitest";
import { planReplay } from "../../src/session/replay";

const none = { lastSeq: null, startTimedate: null };
const online = { deliveredSeq: 40, offlineFromSeq: null, offlineFromMs: null };
const offline = { deliveredSeq: 40, offlineFromSeq: 31, offlineFromMs: 1_000_000 };

describe("planReplay", () => {
  it("replays nothing for a new client or a second tab", () => {
    expect(planReplay(none, null)).toEqual({ source: "none" });
    expect(planReplay(none, online)).toEqual({ source: "none" });
  });

  it("replays the whole buffer on a plain reconnect", () => {
    expect(planReplay(none, offline)).toEqual({ source: "buffer", afterSeq: 30 });
  });

  it("serves last_seq from the buffer only when the buffer covers it", () => {
    expect(planReplay({ ...none, lastSeq: 30 }, offline)).toEqual({ source: "buffer", afterSeq: 30 });
    expect(planReplay({ ...none, lastSeq: 35 }, offline)).toEqual({ source: "buffer", afterSeq: 35 });
    expect(planReplay({ ...none, lastSeq: 29 }, offline)).toEqual({ source: "hub", afterSeq: 29 });
    expect(planReplay({ ...none, lastSeq: 5 }, null)).toEqual({ source: "hub", afterSeq: 5 });
  });

  it("serves start_timedate from the buffer only when it starts after the client left", () => {
    expect(planReplay({ ...none, startTimedate: 1000 }, offline)).toEqual({ source: "buffer", sinceMs: 1_000_000 });
    expect(planReplay({ ...none, startTimedate: 999 }, offline)).toEqual({ source: "hub", sinceMs: 999_000 });
    expect(planReplay({ ...none, startTimedate: 999 }, online)).toEqual({ source: "hub", sinceMs: 999_000 });
  });

  it("prefers the exact last_seq over start_timedate", () => {
    expect(planReplay({ lastSeq: 33, startTimedate: 5 }, offline)).toEqual({ source: "buffer", afterSeq: 33 });
  });
});

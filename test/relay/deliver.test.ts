import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { deliverThroughRelays, deliverToSessions, DELIVERY_TIMEOUT_MS } from "../../src/relay/deliver";
import { readConfig } from "../../src/config";
import type { HubEvent, ReceiveResult } from "../../src/contracts";
import { SessionStubs } from "../../src/relay/session-stubs";

const event: HubEvent = { kind: "status", status: { type: "status", state: "live" } };

/** Stand-in sessions: each id answers as told, so the report can be checked exactly. */
function fakeStubs(behaviour: Record<string, () => Promise<ReceiveResult>>, forgotten: string[] = []): SessionStubs {
  return {
    batch: (ids: readonly string[]) => ids.map((id) => ({ receive: () => behaviour[id]!() })),
    forget: (id: string) => forgotten.push(id),
  } as unknown as SessionStubs;
}

describe("SessionStubs", () => {
  it("hands out the same stub for a client on every tick and forgets clients that left", () => {
    const stubs = new SessionStubs(env);
    const [a1, b1] = stubs.batch(["a", "b"]);
    const [b2, a2, c2] = stubs.batch(["b", "a", "c"]);
    expect(a2).toBe(a1);
    expect(b2).toBe(b1);
    expect(c2).not.toBe(a1);
    expect(stubs.size).toBe(3);

    const [a3] = stubs.batch(["a"]);
    expect(a3).toBe(a1);
    expect(stubs.size).toBe(1);
    const [b4] = stubs.batch(["b"]);
    expect(b4).not.toBe(b1); // b was forgotten when it left the batch
  });

  it("builds a fresh stub for a client whose stub was forgotten", () => {
    const stubs = new SessionStubs(env);
    const [first] = stubs.batch(["a"]);
    stubs.forget("a");
    const [second] = stubs.batch(["a"]);
    expect(second).not.toBe(first);
    expect(stubs.batch(["a"])[0]).toBe(second);
  });

  it("points each stub at the client's own object", () => {
    const [stub] = new SessionStubs(env).batch(["some-client"]);
    expect(stub!.id.equals(env.CLIENT_SESSION.idFromName("some-client"))).toBe(true);
  });
});

describe("deliverToSessions", () => {
  it("counts delivered, gone, failed and silent sessions, waiting no longer than the deadline", async () => {
    const forgotten: string[] = [];
    const stubs = fakeStubs({
      live: async () => ({ subscribed: true }),
      expired: async () => ({ subscribed: false }),
      broken: async () => {
        throw new Error("session broken");
      },
      silent: () => new Promise<ReceiveResult>(() => {}),
    }, forgotten);
    const report = await deliverToSessions(stubs, event, ["live", "expired", "broken", "silent", "live"], 50);
    expect(report).toEqual({ delivered: 2, failed: 2, gone: ["expired"] });
    // A stub whose call threw may be broken: it is rebuilt next tick. A silent one is kept.
    expect(forgotten).toEqual(["broken"]);
  });

  it("reports nothing for an empty batch", async () => {
    expect(await deliverToSessions(fakeStubs({}), event, [], 50)).toEqual({ delivered: 0, failed: 0, gone: [] });
  });
});

describe("deliverThroughRelays", () => {
  const report = (delivered: number) => async () => ({ delivered, failed: 0, gone: [] });

  it("counts a relay that never answers, or throws, as its whole group failed, and returns at the deadline", async () => {
    const never = () => new Promise<never>(() => {});
    const result = await deliverThroughRelays(
      [
        { size: 3, send: report(3) },
        { size: 4, send: never },
        { size: 0, send: never }, // an empty group is not even asked
        { size: 2, send: async () => Promise.reject(new Error("relay down")) },
        { size: 5, send: async () => ({ delivered: 4, failed: 0, gone: ["x"] }) },
      ],
      50,
    );
    expect(result).toEqual({ report: { delivered: 7, failed: 6, gone: ["x"] }, failedRelays: [1, 3] });
  });

  it("waits longer for a relay than a relay waits for its sessions, by default", () => {
    expect(readConfig({}).relayTimeoutMs).toBeGreaterThan(DELIVERY_TIMEOUT_MS);
  });
});

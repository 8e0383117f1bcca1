import { describe, expect, it } from "vitest";
import { MAX_DEPTH, ROOT, shardAt } from "../../src/relay/topology";
import { firstStep, MAX_REGISTER_STEPS, nextStep, parseDepthHint } from "../../src/session/registration";

describe("finding the shard to register with", () => {
  it("starts a known session at the shard its record names, and a new one at the hinted depth", () => {
    expect(firstStep("c", "a7", 3)).toEqual({ shard: "a7", via: "record" });
    expect(firstStep("c", null, 2)).toEqual({ shard: shardAt("c", 2), via: "guess" });
    // The root is never a guess: it always exists.
    expect(firstStep("c", null, 0)).toEqual({ shard: ROOT, via: "record" });
  });

  it("goes down where a shard has split, and up from one that does not exist", () => {
    const at = { shard: shardAt("c", 2), via: "guess" as const };
    expect(nextStep(at, { kind: "moved", to: shardAt("c", 3) })).toEqual({ shard: shardAt("c", 3), via: "parent" });
    expect(nextStep(at, { kind: "absent" })).toEqual({ shard: shardAt("c", 1), via: "guess" });
    expect(nextStep({ shard: shardAt("c", 1), via: "guess" }, { kind: "absent" })).toEqual({
      shard: ROOT,
      via: "record",
    });
  });

  it("has room to climb from the deepest guess to the root and down to the deepest leaf", () => {
    expect(MAX_REGISTER_STEPS).toBeGreaterThanOrEqual(2 * MAX_DEPTH + 1);
  });

  it("reads a depth hint, or starts at the root", () => {
    expect(parseDepthHint("3")).toBe(3);
    for (const bad of [null, "", "-1", "9", "1.5", "x"]) expect(parseDepthHint(bad)).toBe(0);
  });
});

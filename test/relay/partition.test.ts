import { describe, expect, it } from "vitest";
import { partitionSubscribers, relayCount } from "../../src/relay/partition";

describe("relay partitioning", () => {
  const ids = Array.from({ length: 1000 }, (_, i) => `client-${i}`);

  it("puts every subscriber in exactly one group, the same one every time", () => {
    const groups = partitionSubscribers(ids, 4);
    expect(groups.flat().sort()).toEqual([...ids].sort());
    expect(partitionSubscribers(ids, 4)).toEqual(groups);
    for (const g of groups) expect(g.length).toBeGreaterThan(150); // roughly even
  });

  it("sizes the tree from the subscriber count unless configured", () => {
    expect(relayCount(10, 0, 500)).toBe(0);
    expect(relayCount(500, 0, 500)).toBe(0);
    expect(relayCount(501, 0, 500)).toBe(2);
    expect(relayCount(5000, 0, 500)).toBe(10);
    expect(relayCount(10, 3, 500)).toBe(3);
  });
});

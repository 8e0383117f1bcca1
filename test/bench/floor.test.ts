import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type FloorReport,
  FAILED_CHILD,
  framesAfter,
  mergeReports,
  ownReport,
  registerTarget,
} from "../../bench/floor/report";
import { priceMessage } from "../../src/protocol";
import { childToward, clientPath, ROOT } from "../../src/relay/topology";

describe("the floor's tree (bench/floor)", () => {
  it("registers here until split, then with the child on the client's path", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 7 }), (id, depth) => {
        const prefix = clientPath(id).slice(0, depth);
        expect(registerTarget(prefix, id, false)).toBeNull();
        expect(registerTarget(prefix, id, true)).toBe(childToward(prefix, id));
        expect(clientPath(id).startsWith(registerTarget(prefix, id, true)!)).toBe(true);
      }),
    );
  });

  it("sums a subtree's report: deliveries added, the deepest leaf and the fullest one kept", () => {
    const root = ownReport(ROOT, true, 0, 0, { deliver: 5, register: 501, adoptMembers: 0 });
    const a = ownReport("a", false, 300, 299, { deliver: 4, adoptMembers: 1 });
    const b = mergeReports(ownReport("b", true, 0, 0, { deliver: 4 }), [
      ownReport("b1", false, 20, 20, { deliver: 2, register: 3 }),
      ownReport("b2", false, 7, 7),
    ]);
    const total = mergeReports(root, [a, b, FAILED_CHILD]);
    expect(total).toEqual<FloorReport>({
      delivered: 326,
      failed: 2,
      shards: 5,
      leaves: 3,
      depth: 2,
      maxMembers: 300,
      shardCalls: {
        deliver: { total: 15, max: 5 },
        register: { total: 504, max: 501 },
        adoptMembers: { total: 1, max: 1 },
      },
    });
  });

  it("counts a split shard as interior, whatever members it still lists", () => {
    expect(ownReport("ab", true, 12, 12)).toMatchObject({ leaves: 0, depth: 0, maxMembers: 0, delivered: 12 });
    expect(ownReport("ab", false, 12, 10)).toMatchObject({ leaves: 1, depth: 2, maxMembers: 12, failed: 2 });
  });

  it("the resuming floor replays the frames past a client's seq, oldest first, marked replayed", () => {
    const frame = (seq: number) => {
      const tick = { seq, tsMs: seq * 1000, prices: { USD: 100 + seq }, changed: ["USD" as const], sources: ["floor"] };
      return { seq, frame: JSON.stringify(priceMessage(tick, ["USD"], false)) };
    };
    const recent = [frame(4), frame(5), frame(6)];
    const replayed = framesAfter(recent, 4).map((text) => JSON.parse(text));
    expect(replayed.map((m) => [m.seq, m.replayed])).toEqual([
      [5, true],
      [6, true],
    ]);
    expect(framesAfter(recent, 6)).toEqual([]);
    expect(framesAfter(recent, 0)).toHaveLength(3);
  });
});

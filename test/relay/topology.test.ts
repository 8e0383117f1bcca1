import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  childToward,
  clientPath,
  expectedLeafDepth,
  isOnPath,
  MAX_DEPTH,
  parentOf,
  ROOT,
  shardAt,
  shouldSplit,
  splitMembers,
} from "../../src/relay/topology";

describe("the tree's shape", () => {
  it("gives every client one path of 8 hex digits, the same every time", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), (id) => {
        const path = clientPath(id);
        expect(path).toMatch(/^[0-9a-f]{8}$/);
        expect(clientPath(id)).toBe(path);
        for (let depth = 0; depth <= MAX_DEPTH; depth++) {
          const shard = shardAt(id, depth);
          expect(shard).toBe(path.slice(0, depth));
          expect(isOnPath(shard, id)).toBe(true);
        }
      }),
    );
  });

  it("walks down one digit at a time and up to the root", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 0, max: MAX_DEPTH - 1 }), (id, depth) => {
        const shard = shardAt(id, depth);
        const child = childToward(shard, id)!;
        expect(child).toBe(shardAt(id, depth + 1));
        expect(parentOf(child)).toBe(shard);
      }),
    );
    expect(parentOf(ROOT)).toBeNull();
    expect(childToward(shardAt("x", MAX_DEPTH), "x")).toBeNull();
  });

  it("hands each member of a splitting shard to exactly one child on its path", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1 }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 7 }),
        (ids, depth) => {
          const prefix = "0123abcd".slice(0, depth);
          const onPath = ids.filter((id) => isOnPath(prefix, id));
          const groups = splitMembers(prefix, onPath);
          const handed = [...groups.values()].flat();
          expect(handed.sort()).toEqual([...onPath].sort());
          for (const [child, members] of groups) {
            expect(parentOf(child)).toBe(prefix);
            for (const id of members) expect(isOnPath(child, id)).toBe(true);
          }
        },
      ),
    );
  });

  it("splits a shard past a chunk of members, except as deep as the hash goes", () => {
    expect(shouldSplit("", 500, 500)).toBe(false);
    expect(shouldSplit("", 501, 500)).toBe(true);
    expect(shouldSplit("01234567", 10_000, 500)).toBe(false);
  });

  it("expects leaves one level deeper for every 16 times the clients", () => {
    expect([500, 501, 8_000, 8_001, 128_000, 1_000_000, 10_000_000].map((n) => expectedLeafDepth(n, 500))).toEqual([
      0, 1, 1, 2, 2, 3, 4,
    ]);
  });
});

describe("the hash", () => {
  it("spreads ids that differ only in their last characters over every top digit", () => {
    const tops = new Set(Array.from({ length: 64 }, (_, i) => clientPath(`c${i}`)[0]));
    // 64 ids into 16 digits: FNV-1a alone put c0..c29 into 5 of them.
    expect(tops.size).toBeGreaterThanOrEqual(14);
  });
});

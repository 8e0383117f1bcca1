/**
 * The fan-out tree N clients grow, computed from their hashes with the code's own split rule
 * (src/relay/topology.ts), for the capacity model (npm run capacity).
 *
 * A shard named by a hex prefix of d digits holds the clients whose 32-bit hash starts with those
 * digits: the hashes in one contiguous range. So the tree is found by sorting the hashes once and
 * cutting ranges, without a map per client: ten million clients take a few seconds.
 *
 * Imports nothing (the rules come in as arguments): Node runs it with its types stripped and the
 * Workers test pool imports it too, and the two resolve imports differently.
 */

/** The part of src/relay/topology.ts the tree needs. */
export interface SplitRules {
  splitWays: number;
  maxDepth: number;
  shouldSplit(prefix: string, members: number, chunk: number): boolean;
}

export interface TreeShape {
  clients: number;
  chunk: number;
  /** Every shard object: leaves and interior ones (the root included). */
  shards: number;
  leaves: number;
  interior: number;
  /** The deepest leaf. */
  depth: number;
  /** Members of the fullest leaf: the object that calls the most sessions and hears the most registers. */
  busiestLeaf: number;
  /** Shards at each depth (index = depth). */
  shardsByDepth: number[];
  /** Clients whose leaf sits at each depth (index = depth). */
  clientsByLeafDepth: number[];
}

const HASH_BITS = 32;

/** First index in `sorted` whose value is >= `value`. */
function lowerBound(sorted: Uint32Array, value: number, from: number, to: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The hex prefix of `depth` digits whose hashes start at `base` (clientPath's digits, src/relay/topology.ts). */
function prefixOf(base: number, depth: number, bitsPerLevel: number): string {
  if (depth === 0) return "";
  const digits = Math.ceil(HASH_BITS / bitsPerLevel);
  return base.toString(16).padStart(digits, "0").slice(0, depth);
}

/**
 * The tree the clients of `sortedHashes` (ascending) grow when each shard splits as `rules` says.
 * The tree never merges, so its shape once everybody registered is that of the clients who are
 * there; clients who left are not counted.
 */
export function growTree(sortedHashes: Uint32Array, chunk: number, rules: SplitRules): TreeShape {
  const bitsPerLevel = Math.log2(rules.splitWays);
  if (!Number.isInteger(bitsPerLevel) || bitsPerLevel !== 4) {
    // Shards are named by hex digits of the hash (clientPath): one level is one hex digit.
    throw new Error(`growTree: expected 16-way splits (a hex digit per level), got ${rules.splitWays}`);
  }
  const shardsByDepth: number[] = [];
  const clientsByLeafDepth: number[] = [];
  let leaves = 0;
  let interior = 0;
  let busiestLeaf = 0;
  let depth = 0;
  // [base hash, depth, first index, end index]
  const stack: [number, number, number, number][] = [[0, 0, 0, sortedHashes.length]];
  while (stack.length > 0) {
    const [base, d, from, to] = stack.pop()!;
    const members = to - from;
    shardsByDepth[d] = (shardsByDepth[d] ?? 0) + 1;
    if (!rules.shouldSplit(prefixOf(base, d, bitsPerLevel), members, chunk)) {
      leaves++;
      busiestLeaf = Math.max(busiestLeaf, members);
      clientsByLeafDepth[d] = (clientsByLeafDepth[d] ?? 0) + members;
      depth = Math.max(depth, d);
      continue;
    }
    interior++;
    const childSpan = 2 ** (HASH_BITS - bitsPerLevel * (d + 1));
    let start = from;
    for (let k = 0; k < rules.splitWays; k++) {
      const childBase = base + k * childSpan;
      const end = k === rules.splitWays - 1 ? to : lowerBound(sortedHashes, childBase + childSpan, start, to);
      // A split hands members to the children they hash to (adoptMembers): a child nobody hashes to
      // is never created.
      if (end > start) stack.push([childBase, d + 1, start, end]);
      start = end;
    }
  }
  for (let d = 0; d <= depth; d++) {
    shardsByDepth[d] ??= 0;
    clientsByLeafDepth[d] ??= 0;
  }
  return {
    clients: sortedHashes.length,
    chunk,
    shards: leaves + interior,
    leaves,
    interior,
    depth,
    busiestLeaf,
    shardsByDepth,
    clientsByLeafDepth,
  };
}

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * The sorted hashes of `count` client ids shaped like the ones the Worker assigns (16 random bytes
 * as base64url: 22 characters), drawn from a seeded generator so that a row is the same every run.
 */
export function clientHashes(count: number, seed: number, hash: (clientId: string) => number): Uint32Array {
  let state = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    let id = "";
    for (let j = 0; j < 22; j++) id += ID_ALPHABET[next() & 63];
    out[i] = hash(id);
  }
  return out.sort();
}

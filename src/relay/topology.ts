/**
 * The shape of the fan-out tree, as pure functions of a client id (docs/design/fanout.md).
 *
 * A client's 32-bit hash, written as 8 hex digits, is its path from the root shard. A shard is named by
 * a prefix of such paths: the root by "", its children by one digit, theirs by two, and so on. A shard
 * that holds more than a chunk of members splits: its members move to the children named by their next
 * digit, and it forwards to those children from then on. Nothing here reads storage: a shard, a session,
 * the capacity model and the floor worker of the bench all derive the tree from these functions.
 */

/** Bits of the hash each level of the tree consumes: a shard splits into 2^4 = 16 children. */
export const SPLIT_BITS = 4;
export const SPLIT_WAYS = 1 << SPLIT_BITS;
/** 32 hash bits / 4 per level: a shard this deep holds whoever hashes to it, however many. */
export const MAX_DEPTH = 8;

/** The root shard's prefix. */
export const ROOT = "";

/**
 * FNV-1a, then MurmurHash3's finalizer: a stable, cheap hash, so a client always has the same path. FNV-1a
 * alone leaves its top bits poorly mixed for short ids that differ in their last characters ("c1", "c2",
 * ...), and the top bits are what picks a shard; the finalizer spreads every input bit over all of them.
 */
export function hashClientId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The client's full path: its hash as 8 lowercase hex digits. */
export function clientPath(clientId: string): string {
  return hashClientId(clientId).toString(16).padStart(MAX_DEPTH, "0");
}

/** The shard at `depth` on a client's path. */
export function shardAt(clientId: string, depth: number): string {
  return clientPath(clientId).slice(0, clamp(depth));
}

export const depthOf = (prefix: string): number => prefix.length;

/** The parent of a shard; null for the root. */
export function parentOf(prefix: string): string | null {
  return prefix === ROOT ? null : prefix.slice(0, -1);
}

/** The digit a shard has under its parent (its last one). */
export const digitOf = (prefix: string): string => prefix.slice(-1);

/** The child of `prefix` on the client's path; null at MAX_DEPTH, where a shard never splits. */
export function childToward(prefix: string, clientId: string): string | null {
  if (prefix.length >= MAX_DEPTH) return null;
  return clientPath(clientId).slice(0, prefix.length + 1);
}

/** True when `prefix` lies on the client's path (the root is on every path). */
export function isOnPath(prefix: string, clientId: string): boolean {
  return clientPath(clientId).startsWith(prefix);
}

export const isValidPrefix = (prefix: string): boolean => /^[0-9a-f]{0,8}$/.test(prefix);

/** The members of a splitting shard, grouped by the child each moves to. */
export function splitMembers(prefix: string, clientIds: readonly string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const id of clientIds) {
    const child = childToward(prefix, id);
    if (child === null) continue;
    const group = groups.get(child);
    if (group) group.push(id);
    else groups.set(child, [id]);
  }
  return groups;
}

/** A shard splits when it holds more than a chunk of members, unless it is as deep as the hash goes. */
export function shouldSplit(prefix: string, members: number, chunk: number): boolean {
  return members > chunk && prefix.length < MAX_DEPTH;
}

const clamp = (depth: number) => Math.max(0, Math.min(MAX_DEPTH, Math.floor(depth)));

/**
 * The depth at which leaves sit, in expectation, for `clients` uniformly hashed clients and shards of at
 * most `chunk` members: the smallest depth whose 16^depth shards each hold at most a chunk on average.
 * The Worker uses what it last saw as a hint for new clients; the capacity model uses it for its rows.
 */
export function expectedLeafDepth(clients: number, chunk: number): number {
  let depth = 0;
  while (depth < MAX_DEPTH && clients / SPLIT_WAYS ** depth > chunk) depth++;
  return depth;
}

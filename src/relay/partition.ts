/** FNV-1a: a stable, cheap hash so a client always goes through the same relay. */
export function hashClientId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** How many relays to use: FANOUT_RELAYS when set, else one per `chunk` subscribers (none below one chunk). */
export function relayCount(subscribers: number, configured: number, chunk: number): number {
  if (configured > 0) return configured;
  return subscribers <= chunk ? 0 : Math.ceil(subscribers / chunk);
}

/** Splits subscribers into `relays` groups by hash; every id lands in exactly one group. */
export function partitionSubscribers(ids: readonly string[], relays: number): string[][] {
  const groups: string[][] = Array.from({ length: relays }, () => []);
  for (const id of ids) groups[hashClientId(id) % relays]!.push(id);
  return groups;
}

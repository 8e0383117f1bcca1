import { priceMessage, sameSources, sourcesBehind, type Currency, type Tick } from "../protocol";

/**
 * Price frames as sent, per tick and currencies. An isolate hosts many sessions, and each sends the
 * same few frames for a tick: live, to every socket with the same currencies, and replayed, to every
 * client catching up after a restart. Each is built and stringified once. A tick is known by its seq
 * and time, and checked against the one the text was made from, so another tick that shares them (a
 * new history) never gets an old frame.
 */
const KEPT = 256;
const kept = new Map<string, { tick: Tick; text: string }>();

export function priceText(tick: Tick, currencies: readonly Currency[], replayed: boolean): string {
  const key = `${tick.seq} ${tick.tsMs} ${replayed ? "r" : "l"} ${currencies.join(",")}`;
  const hit = kept.get(key);
  if (hit && (hit.tick === tick || sameFrame(hit.tick, tick, currencies))) return hit.text;
  const text = JSON.stringify(priceMessage(tick, currencies, replayed));
  kept.set(key, { tick, text });
  if (kept.size > KEPT) kept.delete(kept.keys().next().value!);
  return text;
}

/** Whether two ticks make the same frame for these currencies: same prices, from the same sources. */
function sameFrame(a: Tick, b: Tick, currencies: readonly Currency[]): boolean {
  return currencies.every((c) => a.prices[c] === b.prices[c] && sameSources(sourcesBehind(a, c), sourcesBehind(b, c)));
}

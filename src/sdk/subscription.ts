import type { ClientMessage, Currency } from "../protocol";

/**
 * The frames that take the socket from `current` to `wanted`: at most one subscribe and
 * one unsubscribe. Subscribing first means the socket never has an empty set.
 */
export function subscriptionDiff(wanted: readonly Currency[], current: readonly Currency[]): ClientMessage[] {
  const add = wanted.filter((c) => !current.includes(c));
  const remove = current.filter((c) => !wanted.includes(c));
  const out: ClientMessage[] = [];
  if (add.length > 0) out.push({ type: "subscribe", currencies: add });
  if (remove.length > 0) out.push({ type: "unsubscribe", currencies: remove });
  return out;
}

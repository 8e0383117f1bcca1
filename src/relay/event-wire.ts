import type { FanoutEvent } from "../contracts";

/**
 * A shard sends each event to every member as JSON text, encoded once for all of them: an object argument
 * would be serialized again for every call, and a leaf makes one call per member per tick.
 */
const encoded = new WeakMap<FanoutEvent, string>();

export function encodeEvent(event: FanoutEvent): string {
  let text = encoded.get(event);
  if (text === undefined) {
    text = JSON.stringify(event);
    encoded.set(event, text);
  }
  return text;
}

/**
 * The texts this isolate decoded last, newest first. The sessions an isolate hosts get the same text for
 * an event, one call each: it is parsed once, and they share the event, frozen so that none can change
 * it under the others (their price frames are then found by the tick itself, src/session/frame-text.ts).
 */
const RECENT = 4;
const recent: { text: string; event: FanoutEvent }[] = [];

/** What a session receives: the event as its shard encoded it (or the event itself, from a test). */
export function decodeEvent(sent: FanoutEvent | string): FanoutEvent {
  if (typeof sent !== "string") return sent;
  const known = recent.find((entry) => entry.text === sent);
  if (known) return known.event;
  const event = deepFreeze(JSON.parse(sent) as FanoutEvent);
  recent.unshift({ text: sent, event });
  if (recent.length > RECENT) recent.pop();
  return event;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

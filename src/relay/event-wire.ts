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

/** What a session receives: the event as its shard encoded it (or the event itself, from a test). */
export function decodeEvent(event: FanoutEvent | string): FanoutEvent {
  return typeof event === "string" ? (JSON.parse(event) as FanoutEvent) : event;
}

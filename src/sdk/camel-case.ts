/**
 * The library's events carry the wire frames' fields under camelCase names: these types derive
 * them from the protocol's frame types (src/protocol/messages.ts), so the two cannot drift apart.
 */

/** `previous_epoch` → `previousEpoch`. */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** The object with its own keys in camelCase (values, and keys inside them, stay as they are). */
export type Camelized<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

/** A frame's fields without its `type`, one member of a union at a time. */
export type FrameFields<T> = T extends unknown ? Omit<T, "type"> : never;

/** What a listener gets for a frame: its fields, renamed to camelCase. */
export type FrameInfo<T> = T extends unknown ? Camelized<FrameFields<T>> : never;

const camelCase = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A frame's fields in camelCase, as its listeners get them: the runtime side of FrameInfo. */
export function frameInfo<T extends { type: string }>(frame: T): FrameInfo<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(frame)) if (key !== "type") out[camelCase(key)] = value;
  return out as FrameInfo<T>;
}

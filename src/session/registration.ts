import type { RegisterAnswer, RegisterVia } from "../contracts";
import { MAX_DEPTH, parentOf, ROOT, shardAt } from "../relay/topology";

/** Where a session asks to register next. */
export interface RegisterStep {
  shard: string;
  via: RegisterVia;
}

/** The first step: the shard a known session's record names, else the shard at the hinted depth. */
export function firstStep(clientId: string, recorded: string | null, hintDepth: number): RegisterStep {
  if (recorded !== null) return { shard: recorded, via: "record" };
  const shard = shardAt(clientId, hintDepth);
  return { shard, via: shard === ROOT ? "record" : "guess" };
}

/** After an answer other than `registered`: down to the child a split shard names, or up from an empty one. */
export function nextStep(at: RegisterStep, answer: Exclude<RegisterAnswer, { kind: "registered" }>): RegisterStep {
  if (answer.kind === "moved") return { shard: answer.to, via: "parent" };
  const parent = parentOf(at.shard) ?? ROOT;
  return { shard: parent, via: parent === ROOT ? "record" : "guess" };
}

/** Enough steps to climb from the deepest guess to the root and down again to the deepest leaf. */
export const MAX_REGISTER_STEPS = 2 * MAX_DEPTH + 2;

/** A depth hint from a header: a whole number from 0 to MAX_DEPTH, else 0 (the root). */
export function parseDepthHint(raw: string | null): number {
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 && n <= MAX_DEPTH ? n : 0;
}

/** Where a new session starts looking when its Worker has no hint yet (src/http/pricefeed.ts). */
export const UNKNOWN_DEPTH_GUESS = 2;

/** The header the Worker passes a session its depth hint in, and the one a session answers its depth in. */
export const DEPTH_HINT_HEADER = "X-Shard-Depth-Hint";
export const SHARD_DEPTH_HEADER = "X-Shard-Depth";

import type { Tick } from "../../src/protocol";

/** A USD tick whose price and time follow from its seq: the same seq always makes the same tick. */
export const tick = (seq: number): Tick => ({
  seq,
  tsMs: seq * 1000,
  prices: { USD: seq },
  changed: ["USD"],
  sources: ["test"],
});

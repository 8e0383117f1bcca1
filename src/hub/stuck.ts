import type { Currency } from "../protocol";
import { deviationPct, median } from "./median";

/**
 * One source's quote for one currency, followed over the polls in which it stayed the same.
 * Coinbase and Kraken do not date their quotes, so a cached answer looks fresh: only a quote that
 * holds still while the other sources move gives it away.
 */
export interface QuoteRun {
  value: number;
  /** Fresh answers that repeated `value` while another source's quote for the currency changed. */
  stillWhilePeersMoved: number;
  /** The median of the other sources' fresh quotes when `value` first came; null while there were none. */
  peersAtStart: number | null;
  /** Found stuck: it stays so until the source quotes another value. */
  stuck: boolean;
  /** Sources that `value` overruled in a tie-break on history; cleared of it if `value` turns out stuck. */
  overruled: string[];
}

export type QuoteRuns = Partial<Record<Currency, QuoteRun>>;

/** Polls a quote must hold still while its peers move before it can be found stuck. */
export const STUCK_AFTER_POLLS = 2;

export interface StuckRule {
  afterPolls: number;
  /** How far (percent) the peers' median must have moved since the quote last changed. */
  peersMovedPct: number;
  /**
   * A peer's quote that changed by more than this (percent) in one poll jumped: a liar or a source back
   * from an outage, not a market on the move. It neither counts as a move nor as distance travelled.
   */
  jumpPct: number;
}

/**
 * With the default MAX_DEVIATION_PCT of 2: stuck once the others moved 0.5 % away from where they were;
 * a peer that moved 10 % in one poll jumped (a market that fast is rare; a source lying by 10 %, common).
 */
export function stuckRule(maxDeviationPct: number): StuckRule {
  return { afterPolls: STUCK_AFTER_POLLS, peersMovedPct: maxDeviationPct / 4, jumpPct: maxDeviationPct * 5 };
}

/** One source's fresh quote for a currency this poll, and its run before this poll. */
export interface FreshQuote {
  source: string;
  value: number;
  previous: QuoteRun | undefined;
}

const changed = (q: FreshQuote) => q.previous !== undefined && q.previous.value !== q.value;
const jumped = (q: FreshQuote, rule: StuckRule) =>
  q.previous !== undefined && deviationPct(q.value, q.previous.value) > rule.jumpPct;

/**
 * Every quoting source's run after this poll, for one currency. A quote is stuck when it repeated
 * itself in `afterPolls` polls in which another source's quote changed, and the others' median
 * has meanwhile moved more than `peersMovedPct` from where it stood when the quote last changed.
 * A peer's jump (more than `jumpPct` in one poll) is no evidence: the distance is measured from where
 * the peers stood after it. A quiet market, where every quote holds still, finds nobody stuck; nor
 * can a lone source be.
 */
export function nextRuns(quotes: readonly FreshQuote[], rule: StuckRule): QuoteRun[] {
  return quotes.map((q) => {
    const others = quotes.filter((o) => o !== q);
    const peers = others.length > 0 ? median(others.map((o) => o.value)) : null;
    const before = q.previous;
    if (before === undefined || before.value !== q.value) {
      return { value: q.value, stillWhilePeersMoved: 0, peersAtStart: peers, stuck: false, overruled: [] };
    }
    const jump = others.some((o) => jumped(o, rule));
    const moved = !jump && others.some(changed);
    const stillWhilePeersMoved = before.stillWhilePeersMoved + (moved ? 1 : 0);
    const peersAtStart = jump ? peers : (before.peersAtStart ?? peers);
    const peersMoved =
      peersAtStart !== null && peers !== null && deviationPct(peers, peersAtStart) > rule.peersMovedPct;
    const stuck = before.stuck || (stillWhilePeersMoved >= rule.afterPolls && peersMoved);
    return { ...before, stillWhilePeersMoved, peersAtStart, stuck };
  });
}

/**
 * The 24-hour figures beside each price: `stats_24h` of GET /api/price, kept current between fetches
 * by the live prices (a new high or low shows at once, the change follows the price). The window's
 * open slides with time, which only the server knows: the page asks again every STATS_REFRESH_MS.
 */
import { priceChange, type Currency, type PriceStats } from "../protocol";

/** How often the figures are asked for again while prices arrive (the edge cache serves /api/price). */
export const STATS_REFRESH_MS = 60_000;

export interface DayFigures {
  open: number;
  high: number;
  low: number;
  /** The latest price folded in. */
  last: number;
  /** The seq of the /api/price tick the figures came with: an older answer never replaces them. */
  baseSeq: number;
  /** The seq of the latest price folded in. */
  lastSeq: number;
}

/** The figures of a /api/price answer at tick `seq` whose price was `price`. */
export function fromStats(stats: PriceStats, seq: number, price: number): DayFigures {
  return { open: stats.open, high: stats.high, low: stats.low, last: price, baseSeq: seq, lastSeq: seq };
}

/** A live price folded in: a new high or low, a new last. A price the figures already hold changes nothing. */
export function foldPrice(figures: DayFigures, seq: number, price: number): DayFigures {
  if (seq <= figures.lastSeq) return figures;
  return {
    ...figures,
    high: Math.max(figures.high, price),
    low: Math.min(figures.low, price),
    last: price,
    lastSeq: seq,
  };
}

/**
 * A fresh answer replaces the figures unless it is older than what they came from (an edge that
 * kept an earlier tick); the prices the page saw after its tick (`later`, in seq order) are folded in.
 */
export function adoptStats(
  current: DayFigures | undefined,
  fresh: DayFigures,
  later: readonly { seq: number; price: number }[],
): DayFigures {
  if (current && fresh.baseSeq < current.baseSeq) return current;
  return later.reduce((f, p) => foldPrice(f, p.seq, p.price), fresh);
}

/** After a reset of the feed's history seq numbers start again: the figures stay, their seqs are forgotten. */
export function forgetSeqs(figures: DayFigures): DayFigures {
  return { ...figures, baseSeq: -1, lastSeq: -1 };
}

/** The change over the 24 hours, rounded as the server rounds `change` and `change_pct`. */
export function dayChange(figures: DayFigures): { change: number; change_pct: number } {
  return priceChange(figures.open, figures.last);
}

/**
 * Which currencies to ask /api/price about now, or none: every wanted one once a minute, and at
 * once any wanted one never asked about (just added). A currency without 24-hour figures is asked
 * about again only with the next minute's question.
 */
export function statsQuestion(
  wanted: readonly Currency[],
  asked: ReadonlySet<Currency>,
  lastAskedMs: number | null,
  nowMs: number,
): Currency[] {
  const due = lastAskedMs === null || nowMs - lastAskedMs >= STATS_REFRESH_MS;
  if (due || wanted.some((c) => !asked.has(c))) return [...wanted];
  return [];
}

import {
  disputedStatus,
  liveStatus,
  staleStatus,
  SUPPORTED_CURRENCIES,
  type Currency,
  type Dispute,
  type StatusMessage,
} from "../protocol";
import type { Quotes } from "../sources/types";
import { isStale } from "./publish";

/** What the feed's status follows from; the hub keeps it between polls. */
export interface FeedCondition {
  /** The last poll that published a price (changed or not). */
  lastFreshAtMs: number | null;
  /** The last poll in which any source gave a sane quote, published or disputed. */
  lastHeardAtMs: number | null;
  staleSinceMs: number | null;
  disputes: Dispute[];
  disputedSinceMs: number | null;
}

/** What one poll produced, as far as the status is concerned. */
export interface PollResult {
  prices: Quotes;
  disputes: readonly Dispute[];
}

/**
 * A currency is disputed from the poll that could not price it until a poll publishes it. A poll in
 * which it got no quote at all leaves it as it was, unless no enabled source quotes it any more.
 */
export function carryDisputes(
  previous: readonly Dispute[],
  poll: PollResult,
  isQuoted: (currency: Currency) => boolean,
): Dispute[] {
  const out: Dispute[] = [];
  for (const currency of SUPPORTED_CURRENCIES) {
    const now = poll.disputes.find((d) => d.currency === currency);
    if (now) {
      out.push(now);
      continue;
    }
    const before = previous.find((d) => d.currency === currency);
    if (before && poll.prices[currency] === undefined && isQuoted(currency)) out.push(before);
  }
  return out;
}

/**
 * The condition after a poll. The feed is stale when no source has given a sane quote for three
 * intervals: sources that answer but disagree make it disputed, not stale.
 */
export function nextCondition(
  previous: Partial<FeedCondition> & { startedAtMs: number },
  poll: PollResult,
  nowMs: number,
  intervalMs: number,
  isQuoted: (currency: Currency) => boolean,
): FeedCondition {
  const fresh = Object.keys(poll.prices).length > 0;
  const heard = fresh || poll.disputes.length > 0;
  const lastHeardAtMs = heard ? nowMs : (previous.lastHeardAtMs ?? previous.lastFreshAtMs ?? previous.startedAtMs);
  const stale = isStale(lastHeardAtMs, nowMs, intervalMs);
  const disputes = carryDisputes(previous.disputes ?? [], poll, isQuoted);
  return {
    lastFreshAtMs: fresh ? nowMs : (previous.lastFreshAtMs ?? null),
    lastHeardAtMs,
    staleSinceMs: stale ? (previous.staleSinceMs ?? lastHeardAtMs) : null,
    disputes,
    disputedSinceMs: disputes.length > 0 ? (previous.disputedSinceMs ?? nowMs) : null,
  };
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** Stale outranks disputed: with no quote at all, what the sources last disagreed on is old news. */
export function feedStatus(condition: Partial<FeedCondition>): StatusMessage {
  if (condition.staleSinceMs != null) return staleStatus(seconds(condition.staleSinceMs));
  const disputes = condition.disputes ?? [];
  if (disputes.length > 0) return disputedStatus(seconds(condition.disputedSinceMs ?? 0), disputes);
  return liveStatus();
}

/**
 * Two statuses with the same key are the same state for clients: a new frame goes out only when the
 * key changes. Disputed currencies and the sources behind each count; the quoted values do not,
 * or a dispute would send a frame every poll.
 */
export function statusKey(status: StatusMessage): string {
  if (status.state !== "disputed") return status.state;
  const parts = status.disputes.map((d) => `${d.currency}:${Object.keys(d.quotes).sort().join(",")}`);
  return `disputed ${parts.join(" ")}`;
}

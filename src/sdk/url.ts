import type { Currency } from "../protocol";

export interface FeedQuery {
  currencies: readonly Currency[];
  clientId: string | null;
  lastSeq: number | null;
  epoch: string | null;
  /** start_timedate (Unix seconds), used only while there is no last_seq. */
  from: number | null;
}

/** The /pricefeed URL of one connection attempt; other parameters of `base` are kept. */
export function feedUrl(base: string, q: FeedQuery): string {
  const url = new URL(base);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  const params = url.searchParams;
  for (const name of ["currencies", "client_id", "last_seq", "epoch", "start_timedate"]) params.delete(name);
  params.set("currencies", q.currencies.join(","));
  if (q.clientId !== null) params.set("client_id", q.clientId);
  if (q.lastSeq !== null) {
    params.set("last_seq", String(q.lastSeq));
    if (q.epoch !== null) params.set("epoch", q.epoch);
  } else if (q.from !== null) {
    params.set("start_timedate", String(q.from));
  }
  return url.toString();
}

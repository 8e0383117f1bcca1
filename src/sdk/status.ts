/**
 * The feed's status as the client knows it. The server tells a connecting client its status only
 * when it is not live (right after the snapshot, before any live tick), and says `live` on a
 * recovery only to the clients connected then. So a status that was not live is re-confirmed on
 * every connection: no status frame before the connection's live ticks means live again. A tick
 * published after the feed went stale also shows it is live.
 */
import type { StatusMessage } from "../protocol";
import { frameInfo } from "./camel-case";
import type { FeedStatus, PriceTick } from "./types";

export interface StatusView {
  status: FeedStatus | null;
  /** The status is not live and this connection has not re-stated it yet. */
  unconfirmed: boolean;
  /** Non-replayed ticks on this connection (the first may be the connect snapshot). */
  livePrices: number;
}

export const initialStatus: StatusView = { status: null, unconfirmed: false, livePrices: 0 };

export function toFeedStatus(msg: StatusMessage): FeedStatus {
  return frameInfo(msg);
}

export function sameStatus(a: FeedStatus | null, b: FeedStatus | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function statusOnWelcome(view: StatusView): StatusView {
  return { ...view, unconfirmed: view.status !== null && view.status.state !== "live", livePrices: 0 };
}

export function statusOnFrame(view: StatusView, msg: StatusMessage): StatusView {
  return { ...view, status: toFeedStatus(msg), unconfirmed: false };
}

export function statusOnTick(view: StatusView, tick: PriceTick): StatusView {
  if (tick.replayed) return view;
  const livePrices = view.livePrices + 1;
  const current = view.status;
  const recovered = current?.state === "stale" && tick.ts >= current.since;
  const notRestated = view.unconfirmed && livePrices >= 2;
  if (recovered || notRestated) return { status: { state: "live" }, unconfirmed: false, livePrices };
  return { ...view, livePrices };
}

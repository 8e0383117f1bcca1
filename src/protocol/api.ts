/** The bodies of the read-only HTTP API (`/api/price`, `/api/history`), shared by the Worker, the page and tests. */
import type { Currency } from "./currencies";
import type { StatusMessage } from "./messages";

/** `GET /api/price`: the latest tick, in the asked currencies. */
export interface PriceBody {
  seq: number;
  /** Unix seconds. */
  ts: number;
  time: string;
  prices: Partial<Record<Currency, number>>;
  sources: string[];
  /** Only for currencies that came from other sources than `sources` (see the price frame). */
  sources_by_currency?: Partial<Record<Currency, string[]>>;
  status: StatusMessage["state"];
}

export interface HistoryPoint {
  seq: number;
  /** Unix seconds. */
  ts: number;
  time: string;
  price: number;
}

/** `GET /api/history`: one page of one currency's ticks, oldest first. */
export interface HistoryBody {
  currency: Currency;
  from: number;
  /** The window's end: the `to` asked, or when the page was read for a window reaching now. */
  to: number;
  limit: number;
  points: HistoryPoint[];
  /** The path of the next page (same query, after this page's last seq), or null when this page ends the window. */
  next: string | null;
}

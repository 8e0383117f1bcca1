/** The lines `pricefeed` prints: pure, so that tests can read them without a terminal. */
import type { Currency } from "../protocol";
import type {
  ConnectionState,
  DownReason,
  FeedStatus,
  GapRange,
  HeartbeatInfo,
  PriceTick,
  ResetInfo,
  StateDetail,
  WelcomeInfo,
} from "../sdk";

export interface Style {
  up(s: string): string;
  down(s: string): string;
  dim(s: string): string;
  warn(s: string): string;
  info(s: string): string;
}

const ansi = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export const COLOR: Style = {
  up: ansi(32, 39),
  down: ansi(31, 39),
  dim: ansi(2, 22),
  warn: ansi(33, 39),
  info: ansi(36, 39),
};
const id = (s: string) => s;
export const PLAIN: Style = { up: id, down: id, dim: id, warn: id, info: id };

const numberFormats = new Map<number, Intl.NumberFormat>();

export function formatAmount(value: number, currency: Currency): string {
  const digits = currency === "JPY" ? 0 : 2;
  let f = numberFormats.get(digits);
  if (!f) {
    f = new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
    numberFormats.set(digits, f);
  }
  return f.format(value);
}

/** HH:MM:SS in the terminal's local time. */
export function clock(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

/** One price with its move since the previous one this run printed for the currency. */
export function formatPrice(currency: Currency, price: number, previous: number | undefined, style: Style): string {
  const text = `${currency} ${formatAmount(price, currency)}`;
  if (previous === undefined) return text;
  const change = price - previous;
  if (change === 0) return `${text} =`;
  const move = `${change > 0 ? "▲" : "▼"} ${change > 0 ? "+" : "-"}${formatAmount(Math.abs(change), currency)}`;
  return `${text} ${change > 0 ? style.up(move) : style.down(move)}`;
}

export function tickLine(
  tick: PriceTick,
  currencies: readonly Currency[],
  previous: Partial<Record<Currency, number>>,
  style: Style,
): string {
  const prices = currencies
    .filter((c) => tick.prices[c] !== undefined)
    .map((c) => formatPrice(c, tick.prices[c]!, previous[c], style))
    .join("   ");
  const head = `${clock(new Date(tick.time))}  ${`#${tick.seq}`.padEnd(7)}`;
  return tick.replayed ? `${style.dim(`${head} ↺`)} ${prices} ${style.dim("(replayed)")}` : `${head}   ${prices}`;
}

export function gapLine(gap: GapRange, style: Style): string {
  const n = gap.toSeq - gap.fromSeq + 1;
  const range = n === 1 ? `#${gap.fromSeq}` : `#${gap.fromSeq}–#${gap.toSeq}`;
  return style.warn(`~ gap ${range}: ${n} tick${n === 1 ? "" : "s"} the server can no longer send`);
}

export function statusLine(status: FeedStatus, style: Style): string {
  switch (status.state) {
    case "live":
      return style.up("! status live: fresh prices again");
    case "stale":
      return style.warn(`! status stale: no fresh price since ${clock(new Date(status.since * 1000))}`);
    case "disputed": {
      const what = status.disputes
        .map(
          (d) =>
            `${d.currency} (${Object.entries(d.quotes)
              .map(([s, v]) => `${s} ${formatAmount(v, d.currency)}`)
              .join(" vs ")})`,
        )
        .join(", ");
      return style.warn(
        `! status disputed since ${clock(new Date(status.since * 1000))}: ` +
          `sources disagree on ${what || "some currency"}`,
      );
    }
  }
}

export function resetLine(reset: ResetInfo, style: Style): string {
  return style.warn(
    `! reset: ${reset.message || "the server's history changed"} ` +
      `(epoch ${reset.previousEpoch || "?"} → ${reset.epoch}); seq numbers restart`,
  );
}

const WHY: Record<DownReason, string> = {
  closed: "connection closed",
  connect_timeout: "no welcome from the server in time",
  heartbeat_timeout: "connection dead (no pong)",
  refused: "could not open a socket",
  stopped: "stopped",
  unsupported_protocol: "the server speaks a protocol version this client does not know: upgrade it",
  rejected: "refused by the server",
  stalled: "the feed went silent (no price, status or heartbeat)",
  hole: "a heartbeat named ticks this client never got",
};

export function heartbeatLine(beat: HeartbeatInfo, style: Style): string {
  return style.info(`· heartbeat #${beat.seq} ${beat.time}: feed alive, nothing moved`);
}

export function stateLine(
  state: ConnectionState,
  detail: StateDetail,
  url: string,
  nowMs: number,
  style: Style,
): string {
  switch (state) {
    case "connecting":
      return style.info(`· connecting to ${url}`);
    case "reconnecting":
      return style.info(
        detail.retryAt === null
          ? `· reconnecting (attempt ${detail.attempt + 1})`
          : `· ${WHY[detail.reason ?? "closed"]}; ` +
              `retrying in ${Math.max(0, (detail.retryAt - nowMs) / 1000).toFixed(1)} s`,
      );
    case "open":
      return style.info("· open");
    case "closed":
      if (detail.reason === "unsupported_protocol") return style.warn(`! closed: ${WHY.unsupported_protocol}`);
      if (detail.reason === "rejected") return style.warn(`! closed: ${WHY.rejected}; not retrying`);
      return style.info("· closed");
  }
}

export function welcomeLine(w: WelcomeInfo, lastSeq: number | null, style: Style): string {
  const resume = lastSeq !== null ? `, resuming after #${lastSeq}` : "";
  return style.info(`· connected as client ${w.clientId} (${w.currencies.join(",")}${resume})`);
}

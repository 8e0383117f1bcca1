/**
 * Pure formatting helpers for the page. No DOM access: unit-tested in the workers pool.
 */
import type { Currency, Dispute } from "../protocol";

const priceFormats = new Map<string, Intl.NumberFormat>();

/** Fraction digits a price is shown with: none for currencies without minor units (JPY). */
export function fractionDigits(currency: Currency): number {
  return currency === "JPY" ? 0 : 2;
}

function priceFormat(currency: Currency, locale: string | undefined, sign: boolean): Intl.NumberFormat {
  const key = `${locale ?? ""}|${currency}|${sign}`;
  let f = priceFormats.get(key);
  if (!f) {
    const digits = fractionDigits(currency);
    f = new Intl.NumberFormat(locale, {
      style: "currency",
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      signDisplay: sign ? "exceptZero" : "auto",
    });
    priceFormats.set(key, f);
  }
  return f;
}

/** "$97,123.45", "¥15,700,000". */
export function formatPrice(value: number, currency: Currency, locale?: string): string {
  return priceFormat(currency, locale, false).format(value);
}

/** "+$12.34", "−€0.50", "$0.00". */
export function formatSignedPrice(value: number, currency: Currency, locale?: string): string {
  return priceFormat(currency, locale, true).format(value);
}

/** Compact axis label: "97.1k", "15.7M", "950". */
export function formatAxisValue(value: number, step: number): string {
  const abs = Math.abs(value);
  const decimals = (scale: number) => {
    const s = step / scale;
    if (s >= 1 || s === 0) return 0;
    return Math.min(3, Math.ceil(-Math.log10(s)));
  };
  if (abs >= 1e6) return `${(value / 1e6).toFixed(decimals(1e6))}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(decimals(1e3))}k`;
  return value.toFixed(decimals(1));
}

export type Direction = "up" | "down" | "flat";

export function direction(change: number | null): Direction {
  if (change === null || change === 0 || !Number.isFinite(change)) return "flat";
  return change > 0 ? "up" : "down";
}

/** Relative change in percent, e.g. 0.0123 → "+0.01%"; null when there is nothing to compare. */
export function formatPercent(change: number, base: number, locale?: string): string {
  if (!Number.isFinite(base) || base === 0) return "";
  const pct = (change / base) * 100;
  const abs = Math.abs(pct);
  const digits = abs !== 0 && abs < 0.01 ? 3 : 2;
  return `${new Intl.NumberFormat(locale, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    signDisplay: "exceptZero",
  }).format(pct)}%`;
}

/** A percentage as the API gives it (`change_pct`): "+1.29%", "-0.50%", "0.00%". */
export function formatSignedPercent(pct: number, locale?: string): string {
  return `${new Intl.NumberFormat(locale, {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
    signDisplay: "exceptZero",
  }).format(pct)}%`;
}

/** "20:00:05" in the viewer's time zone (or the one given, for tests). */
export function formatClock(iso: string | number, locale?: string, timeZone?: string): string {
  const d = typeof iso === "number" ? new Date(iso) : new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return new Intl.DateTimeFormat(locale, {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
    timeZone,
  }).format(d);
}

/** "20:05" for chart axes. */
export function formatHourMinute(ms: number, locale?: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale, {
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
    timeZone,
  }).format(new Date(ms));
}

/** "just now", "12 s ago", "4 min ago", "2 h ago". */
export function formatAgo(thenMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  if (s < 2) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** "12 prices missed while offline" / "1 price missed while offline". */
export function missedText(count: number): string {
  return `${count} ${count === 1 ? "price" : "prices"} missed while offline`;
}

/** "retrying in 4 s" / "retrying now". */
export function retryText(retryAtMs: number, nowMs: number): string {
  const s = Math.ceil((retryAtMs - nowMs) / 1000);
  return s <= 0 ? "retrying now" : `retrying in ${s} s`;
}

/** "No new BTC/JPY price: its source moved away from the last one" / "…prices: their sources disagree". */
export function disputeTitle(disputes: readonly Dispute[]): string {
  const names = disputes.map((d) => d.currency).join(", ");
  const lone = disputes.every((d) => Object.keys(d.quotes).length === 1);
  const why = lone ? "a lone source moved away from the last price" : "the sources disagree";
  return `No new ${names} ${disputes.length === 1 ? "price" : "prices"}: ${why}`;
}

/** "JPY: kraken ¥1,512,180,000 · USD: bitstamp $97,100.00, kraken $971,000.00". */
export function disputeDetail(disputes: readonly Dispute[], locale?: string): string {
  return disputes
    .map((d) => {
      const quotes = Object.entries(d.quotes).map(
        ([source, value]) => `${source} ${formatPrice(value, d.currency, locale)}`,
      );
      return `${d.currency}: ${quotes.join(", ")}`;
    })
    .join(" · ");
}

/** The error notice: the server's words and code; for a refused client, also what to do. */
export function serverErrorText(code: string, message: string): string {
  if (code !== "too_many_sockets") return `${message} (${code})`;
  return (
    `Refused by the server: ${message}, and this tab's client id has them all open elsewhere (${code}). ` +
    "Press Open to try again once one of them has closed."
  );
}

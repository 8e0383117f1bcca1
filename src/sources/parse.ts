import type { Currency } from "../protocol";
import { parseError, SourceError } from "./errors";
import type { Quotes, SourceContext } from "./types";

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The object at `key`, or a parse error naming what was expected. */
export function requireRecord(parent: Record<string, unknown>, key: string, what: string): Record<string, unknown> {
  const value = parent[key];
  if (!isRecord(value)) throw parseError(`${what}: "${key}" is missing or not an object`);
  return value;
}

const DECIMAL = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

const decimal = (raw: unknown): number =>
  typeof raw === "number" ? raw : typeof raw === "string" && DECIMAL.test(raw) ? Number(raw) : NaN;

/** A price as upstreams write it (a JSON number or a decimal string); only finite, positive values pass. */
export function parsePrice(raw: unknown, what: string): number {
  const value = decimal(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw parseError(`${what}: expected a positive price, got ${JSON.stringify(raw)?.slice(0, 40) ?? String(raw)}`);
  }
  return value;
}

/** A body that quotes none of the currencies asked for is unusable; some missing ones are simply absent. */
export function requireSomeQuotes(quotes: Quotes, asked: readonly Currency[], source: string): Quotes {
  if (Object.keys(quotes).length === 0) {
    throw parseError(`${source}: the body quotes none of ${asked.join(",")}`);
  }
  return quotes;
}

/** When a poll runs and how old a quote may be (MAX_QUOTE_AGE_S; 0 turns the check off). */
export interface QuoteClock {
  nowMs: number;
  maxAgeMs: number;
}

export const quoteClock = (ctx: SourceContext): QuoteClock => ({
  nowMs: ctx.nowMs,
  maxAgeMs: ctx.config.maxQuoteAgeS * 1000,
});

/**
 * Rejects a quote its upstream dates (unix seconds) older than the clock allows: an upstream that
 * froze keeps answering 200 with the same price, which must not count as fresh. No date, no check.
 */
export function requireRecentQuote(unixSeconds: unknown, clock: QuoteClock, what: string): void {
  if (unixSeconds === undefined || unixSeconds === null || clock.maxAgeMs <= 0) return;
  const seconds = decimal(unixSeconds);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw parseError(`${what}: expected a unix time, got ${JSON.stringify(unixSeconds)?.slice(0, 40)}`);
  }
  const ageMs = clock.nowMs - seconds * 1000;
  if (ageMs > clock.maxAgeMs) {
    throw new SourceError(
      "stale",
      `${what}: the quote is ${Math.round(ageMs / 1000)} s old (max ${clock.maxAgeMs / 1000} s)`,
    );
  }
}

import type { Currency } from "../protocol";
import { parseError } from "./errors";
import type { Quotes } from "./types";

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

/** A price as upstreams write it (a JSON number or a decimal string); only finite, positive values pass. */
export function parsePrice(raw: unknown, what: string): number {
  const value = typeof raw === "number" ? raw : typeof raw === "string" && DECIMAL.test(raw) ? Number(raw) : NaN;
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

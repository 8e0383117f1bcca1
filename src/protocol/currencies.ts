import { fail, ok, type Result } from "./result";

/** Fiat currencies the feed quotes BTC in; every one is served by at least two sources. */
export const SUPPORTED_CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CAD", "CHF", "AUD"] as const;
export type Currency = (typeof SUPPORTED_CURRENCIES)[number];

export const DEFAULT_CURRENCIES: readonly Currency[] = ["USD"];

export function isCurrency(value: string): value is Currency {
  return (SUPPORTED_CURRENCIES as readonly string[]).includes(value);
}

const MAX_CURRENCY_LIST_LENGTH = 200;

/**
 * Normalises a list of currency codes: upper-cased, trimmed, de-duplicated, order kept.
 * Accepts a comma-separated string (query parameter) or an array (client frame).
 */
export function parseCurrencies(input: string | readonly unknown[]): Result<Currency[]> {
  if (typeof input === "string" && input.length > MAX_CURRENCY_LIST_LENGTH) {
    return fail("invalid_currencies", "currencies is too long");
  }
  const items = typeof input === "string" ? input.split(",") : input;
  if (items.length > SUPPORTED_CURRENCIES.length * 2) {
    return fail("invalid_currencies", "too many currencies");
  }
  const out: Currency[] = [];
  for (const item of items) {
    if (typeof item !== "string") return fail("invalid_currencies", "currencies must be strings");
    const code = item.trim().toUpperCase();
    if (code === "") return fail("invalid_currencies", "currencies contains an empty entry");
    if (!isCurrency(code)) {
      return fail(
        "unsupported_currency",
        `unsupported currency "${code.slice(0, 12)}"; supported: ${SUPPORTED_CURRENCIES.join(",")}`,
      );
    }
    if (!out.includes(code)) out.push(code);
  }
  if (out.length === 0) return fail("invalid_currencies", "currencies is empty");
  return ok(out);
}

/** Currencies in the one order of SUPPORTED_CURRENCIES: `EUR,usd` and `USD,EUR` ask the same. */
export function canonicalOrder(currencies: readonly Currency[]): Currency[] {
  return SUPPORTED_CURRENCIES.filter((c) => currencies.includes(c));
}

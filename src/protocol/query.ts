import { DEFAULT_CURRENCIES, parseCurrencies, type Currency } from "./currencies";
import { fail, ok, type Result } from "./result";

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** How far in the future a start_timedate may lie (clock skew between client and edge). */
export const START_TIMEDATE_MAX_FUTURE_S = 60;

export interface PricefeedQuery {
  clientId: string | null;
  currencies: Currency[];
  /** False when the query named no currencies and `currencies` is the default. */
  currenciesGiven: boolean;
  /** Unix seconds. */
  startTimedate: number | null;
  lastSeq: number | null;
}

function nonNegativeInteger(raw: string): number | null {
  if (!/^\d{1,15}$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}

function single(params: URLSearchParams, name: string): Result<string | null> {
  const all = params.getAll(name);
  if (all.length > 1) return fail("invalid_parameter", `${name} is given more than once`);
  return ok(all[0] ?? null);
}

function currenciesParam(params: URLSearchParams, name: string): Result<Currency[]> {
  const raw = single(params, name);
  if (!raw.ok) return raw;
  if (raw.value === null || raw.value === "") return ok([...DEFAULT_CURRENCIES]);
  return parseCurrencies(raw.value);
}

function show(value: string): string {
  return JSON.stringify(value.slice(0, 40));
}

export function parsePricefeedQuery(params: URLSearchParams, nowMs: number): Result<PricefeedQuery> {
  const id = single(params, "client_id");
  if (!id.ok) return id;
  if (id.value !== null && !CLIENT_ID_PATTERN.test(id.value)) {
    return fail(
      "invalid_client_id",
      `client_id ${show(id.value)} must be 1-64 characters of A-Z, a-z, 0-9, _ or -`,
    );
  }
  const currencies = currenciesParam(params, "currencies");
  if (!currencies.ok) return currencies;

  const start = single(params, "start_timedate");
  if (!start.ok) return start;
  let startTimedate: number | null = null;
  if (start.value !== null) {
    startTimedate = nonNegativeInteger(start.value);
    if (startTimedate === null) {
      return fail(
        "invalid_start_timedate",
        `start_timedate ${show(start.value)} must be a non-negative integer of Unix seconds`,
      );
    }
    if (startTimedate > nowMs / 1000 + START_TIMEDATE_MAX_FUTURE_S) {
      return fail("invalid_start_timedate", `start_timedate ${startTimedate} lies in the future`);
    }
  }

  const last = single(params, "last_seq");
  if (!last.ok) return last;
  let lastSeq: number | null = null;
  if (last.value !== null) {
    lastSeq = nonNegativeInteger(last.value);
    if (lastSeq === null) {
      return fail("invalid_last_seq", `last_seq ${show(last.value)} must be a non-negative integer`);
    }
  }
  return ok({
    clientId: id.value,
    currencies: currencies.value,
    currenciesGiven: Boolean(params.get("currencies")),
    startTimedate,
    lastSeq,
  });
}

export function parsePriceQuery(params: URLSearchParams): Result<{ currencies: Currency[] }> {
  const currencies = currenciesParam(params, "currencies");
  return currencies.ok ? ok({ currencies: currencies.value }) : currencies;
}

export interface HistoryQuery {
  currency: Currency;
  fromS: number;
  toS: number;
}

export const MAX_HISTORY_WINDOW_S = 86_400;

export function parseHistoryQuery(params: URLSearchParams, nowMs: number): Result<HistoryQuery> {
  const ccy = single(params, "currency");
  if (!ccy.ok) return ccy;
  const currencies = parseCurrencies(ccy.value ?? "USD");
  if (!currencies.ok) return currencies;
  if (currencies.value.length !== 1) {
    return fail("invalid_currencies", "history takes exactly one currency");
  }
  const nowS = Math.floor(nowMs / 1000);
  const bounds: Record<"from" | "to", number> = { from: nowS - 3600, to: nowS };
  for (const name of ["from", "to"] as const) {
    const raw = single(params, name);
    if (!raw.ok) return raw;
    if (raw.value === null) continue;
    const n = nonNegativeInteger(raw.value);
    if (n === null) {
      return fail("invalid_parameter", `${name} ${show(raw.value)} must be a non-negative integer of Unix seconds`);
    }
    bounds[name] = n;
  }
  if (bounds.from > bounds.to) return fail("invalid_parameter", "from must not be after to");
  if (bounds.to - bounds.from > MAX_HISTORY_WINDOW_S) {
    return fail("invalid_parameter", `the window from..to is limited to ${MAX_HISTORY_WINDOW_S} s`);
  }
  return ok({ currency: currencies.value[0]!, fromS: bounds.from, toS: bounds.to });
}

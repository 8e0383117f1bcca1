import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CANDLE_INTERVAL_S,
  type CandleInterval,
  candlesQueryString,
  HISTORY_DEFAULT_LIMIT,
  HISTORY_MAX_LIMIT,
  historyQueryString,
  parseCandlesQuery,
  parseHistoryQuery,
  parsePricefeedQuery,
  parsePriceQuery,
  SUPPORTED_CURRENCIES,
} from "../../src/protocol";

const NOW = Date.UTC(2026, 10, 24, 20, 0, 0);
const parse = (q: string) => parsePricefeedQuery(new URLSearchParams(q), NOW);

describe("parsePricefeedQuery", () => {
  it("defaults to USD and no client id", () => {
    expect(parse("")).toEqual({
      ok: true,
      value: {
        clientId: null,
        currencies: ["USD"],
        currenciesGiven: false,
        startTimedate: null,
        lastSeq: null,
        epoch: null,
      },
    });
  });

  it("normalises currencies: case, spaces, duplicates, order kept", () => {
    const r = parse("client_id=abc_DEF-1&currencies=eur, usd ,EUR");
    expect(r.ok && r.value).toMatchObject({ clientId: "abc_DEF-1", currencies: ["EUR", "USD"], currenciesGiven: true });
  });

  it.each([
    ["client_id=", "invalid_client_id"],
    ["client_id=a%20b", "invalid_client_id"],
    [`client_id=${"x".repeat(65)}`, "invalid_client_id"],
    ["client_id=a&client_id=b", "invalid_parameter"],
    ["currencies=USD,XYZ", "unsupported_currency"],
    ["currencies=USD,,EUR", "invalid_currencies"],
    ["start_timedate=abc", "invalid_start_timedate"],
    ["start_timedate=-5", "invalid_start_timedate"],
    ["start_timedate=1.5", "invalid_start_timedate"],
    [`start_timedate=${NOW / 1000 + 61}`, "invalid_start_timedate"],
    ["last_seq=-1", "invalid_last_seq"],
    ["last_seq=1e3", "invalid_last_seq"],
    ["last_seq=3&epoch=a.b", "invalid_epoch"],
    [`last_seq=3&epoch=${"e".repeat(65)}`, "invalid_epoch"],
    ["epoch=a&epoch=b", "invalid_parameter"],
  ])("rejects %s with %s and names the value", (query, code) => {
    const r = parse(query);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.message.length).toBeGreaterThan(10);
    }
  });

  it("carries the epoch a last_seq belongs to", () => {
    const r = parse("last_seq=7&epoch=Ab3_-x");
    expect(r.ok && r.value).toMatchObject({ lastSeq: 7, epoch: "Ab3_-x" });
  });

  it("accepts a start_timedate up to 60 s ahead (clock skew) and zero", () => {
    expect(parse(`start_timedate=${NOW / 1000 + 60}`).ok).toBe(true);
    expect(parse("start_timedate=0&last_seq=0").ok).toBe(true);
  });
});

describe("parseHistoryQuery", () => {
  const history = (q: string) => parseHistoryQuery(new URLSearchParams(q), NOW + 12_345);

  it("defaults to USD from the minute an hour back up to now, a page of 1000", () => {
    expect(history("")).toEqual({
      ok: true,
      value: { currency: "USD", fromS: NOW / 1000 - 3600, toS: null, limit: HISTORY_DEFAULT_LIMIT, afterSeq: null },
    });
  });

  it("reads a window that ends now or later as reaching now, an earlier one as it is", () => {
    const nowS = Math.floor((NOW + 12_345) / 1000);
    expect(history(`from=${nowS - 60}&to=${nowS}`)).toMatchObject({ value: { toS: null } });
    expect(history(`from=${nowS - 60}&to=${nowS + 999}`)).toMatchObject({ value: { toS: null } });
    expect(history(`from=${nowS - 60}&to=${nowS - 1}`)).toMatchObject({ value: { toS: nowS - 1 } });
  });

  it("takes a limit up to the maximum and a seq cursor", () => {
    expect(history(`limit=${HISTORY_MAX_LIMIT}&after=42`)).toMatchObject({
      value: { limit: HISTORY_MAX_LIMIT, afterSeq: 42 },
    });
  });

  it.each([
    "currency=USD,EUR",
    "from=10&to=5",
    "from=x",
    "from=0&to=999999",
    "from=0",
    "limit=0",
    `limit=${HISTORY_MAX_LIMIT + 1}`,
    "limit=-1",
    "after=1.5",
    "after=1&after=2",
  ])("rejects %s", (q) => {
    const r = history(q);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message.length).toBeGreaterThan(10);
  });

  it("spells every query one way: the parse of its spelling is itself, and junk or order do not change it", () => {
    const nowMs = NOW + 12_345;
    const nowS = Math.floor(nowMs / 1000);
    fc.assert(
      fc.property(
        fc.constantFrom(...SUPPORTED_CURRENCIES),
        fc.integer({ min: 0, max: 86_400 }),
        fc.option(fc.integer({ min: 0, max: 86_400 }), { nil: null }),
        fc.integer({ min: 1, max: HISTORY_MAX_LIMIT }),
        fc.option(fc.nat(), { nil: null }),
        fc.boolean(),
        (currency, back, span, limit, after, lower) => {
          const fromS = nowS - back;
          const params: [string, string][] = [
            ["currency", lower ? currency.toLowerCase() : currency],
            ["from", String(fromS)],
            ["limit", String(limit)],
            ["junk", "1"],
          ];
          if (span !== null) params.push(["to", String(Math.min(fromS + span, nowS + 100))]);
          if (after !== null) params.push(["after", String(after)]);
          const parsed = parseHistoryQuery(new URLSearchParams(params), nowMs);
          const reversed = parseHistoryQuery(new URLSearchParams([...params].reverse()), nowMs);
          if (!parsed.ok || !reversed.ok) throw new Error(JSON.stringify(parsed));
          const spelled = historyQueryString(parsed.value);
          expect(historyQueryString(reversed.value)).toBe(spelled);
          expect(parseHistoryQuery(new URLSearchParams(spelled), nowMs)).toEqual(parsed);
          expect(spelled).not.toContain("junk");
        },
      ),
    );
  });
});

describe("parseCandlesQuery", () => {
  // 20:00:12 (NOW is on the hour).
  const nowMs = NOW + 12_345;
  const nowS = Math.floor(nowMs / 1000);
  const candles = (q: string) => parseCandlesQuery(new URLSearchParams(q), nowMs);

  it("defaults to USD, 1m, the last 60 buckets up to now (the current one included), a page of 1000", () => {
    expect(candles("")).toEqual({
      ok: true,
      value: {
        currency: "USD",
        interval: "1m",
        fromS: NOW / 1000 - 59 * 60,
        toS: null,
        limit: HISTORY_DEFAULT_LIMIT,
        afterS: null,
      },
    });
    // 24 hourly buckets, not 60: the default window stays within a day.
    expect(candles("interval=1h")).toMatchObject({ value: { fromS: NOW / 1000 - 23 * 3600, toS: null } });
    expect(candles("interval=15m")).toMatchObject({ value: { fromS: NOW / 1000 - 59 * 900 } });
  });

  it("widens the window to whole buckets: from down to its bucket's start, to up to its bucket's end", () => {
    const hour = NOW / 1000 - 3 * 3600; // 17:00:00
    expect(candles(`interval=15m&from=${hour + 14 * 60 + 59}&to=${hour + 15 * 60}`)).toMatchObject({
      value: { fromS: hour, toS: hour + 30 * 60 - 1 },
    });
    expect(candles(`interval=1h&from=${hour}&to=${hour}`)).toMatchObject({
      value: { fromS: hour, toS: hour + 3599 },
    });
    // A `to` whose bucket reaches now is "up to now".
    expect(candles(`interval=5m&from=${hour}&to=${nowS - 1}`)).toMatchObject({ value: { toS: null } });
  });

  it("reads `after` as the last bucket served: rounded to its start, dropped where it does not narrow", () => {
    const from = NOW / 1000 - 3600;
    expect(candles(`from=${from}&after=${from + 125}`)).toMatchObject({ value: { afterS: from + 120 } });
    expect(candles(`from=${from}&after=${from}`)).toMatchObject({ value: { afterS: from } });
    expect(candles(`from=${from}&after=${from - 1}`)).toMatchObject({ value: { afterS: null } });
    expect(candles(`from=${from}&after=0`)).toMatchObject({ value: { afterS: null } });
  });

  it("takes as many buckets as a day's window touches, and one more bucket is too many", () => {
    for (const [interval, seconds] of Object.entries(CANDLE_INTERVAL_S)) {
      // A day's window from the middle of a bucket touches 86,400 / seconds + 1 buckets.
      expect(candles(`interval=${interval}&from=${nowS - 86_400}`).ok).toBe(true);
      expect(candles(`interval=${interval}&from=${nowS - 86_400 - seconds}`)).toMatchObject({
        ok: false,
        error: { code: "invalid_parameter" },
      });
    }
  });

  it("holds the limit to what is left after the cursor: the next page of a day's window is still good later", () => {
    const from = nowS - 86_400;
    // An hour later the window from `from` up to now is 25 hours: too long as a first page ...
    const later = (q: string) => parseCandlesQuery(new URLSearchParams(q), nowMs + 3_600_000);
    expect(later(`from=${from}`).ok).toBe(false);
    // ... but its next page, after the first 1000 minutes, asks for what is left of it.
    expect(later(`from=${from}&after=${from + 999 * 60}`).ok).toBe(true);
  });

  it.each([
    ["interval=2m", "invalid_interval"],
    ["interval=1M", "invalid_interval"],
    ["interval=", "invalid_interval"],
    ["interval=60", "invalid_interval"],
    ["interval=1m&interval=5m", "invalid_parameter"],
    ["currency=USD,EUR", "invalid_currencies"],
    ["currency=DOGE", "unsupported_currency"],
    [`from=${nowS - 60}&to=${nowS - 120}`, "invalid_parameter"],
    ["from=x", "invalid_parameter"],
    ["from=0", "invalid_parameter"],
    ["limit=0", "invalid_parameter"],
    [`limit=${HISTORY_MAX_LIMIT + 1}`, "invalid_parameter"],
    ["after=-1", "invalid_parameter"],
    ["after=1&after=2", "invalid_parameter"],
  ])("rejects %s with %s", (q, code) => {
    const r = candles(q);
    expect(r).toMatchObject({ ok: false, error: { code } });
    if (!r.ok) expect(r.error.message.length).toBeGreaterThan(10);
  });

  it("names the intervals it takes when refusing one", () => {
    const r = candles("interval=2m");
    expect(!r.ok && r.error.message).toBe('interval "2m" must be one of 1m, 5m, 15m, 1h');
  });

  it("spells every query one way: its spelling parses to itself; junk, order, a bucket's inside change nothing", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SUPPORTED_CURRENCIES),
        fc.constantFrom(...(Object.keys(CANDLE_INTERVAL_S) as CandleInterval[])),
        fc.integer({ min: 0, max: 86_400 }),
        fc.option(fc.integer({ min: 0, max: 86_400 }), { nil: null }),
        fc.integer({ min: 1, max: HISTORY_MAX_LIMIT }),
        fc.option(fc.integer({ min: 0, max: 90_000 }), { nil: null }),
        fc.integer({ min: 0, max: 3599 }),
        (currency, interval, back, span, limit, afterBack, shift) => {
          const fromS = nowS - back;
          const params: [string, string][] = [
            ["currency", currency.toLowerCase()],
            ["interval", interval],
            ["from", String(fromS)],
            ["limit", String(limit)],
            ["junk", "1"],
          ];
          if (span !== null) params.push(["to", String(Math.min(fromS + span, nowS + 100))]);
          if (afterBack !== null) params.push(["after", String(nowS - afterBack)]);
          const parsed = parseCandlesQuery(new URLSearchParams(params), nowMs);
          if (!parsed.ok) return; // one bucket too many: checked above
          const bucketS = CANDLE_INTERVAL_S[interval];
          const q = parsed.value;
          expect(q.fromS % bucketS).toBe(0);
          if (q.toS !== null) expect((q.toS + 1) % bucketS).toBe(0);
          if (q.afterS !== null) expect(q.afterS % bucketS).toBe(0);
          const spelled = candlesQueryString(q);
          expect(spelled).not.toContain("junk");
          expect(
            candlesQueryString(expectOk(parseCandlesQuery(new URLSearchParams([...params].reverse()), nowMs))),
          ).toBe(spelled);
          expect(parseCandlesQuery(new URLSearchParams(spelled), nowMs)).toEqual(parsed);
          // Another second of the same first bucket asks the same question.
          const inside = params.map(([k, v]): [string, string] =>
            k === "from" ? [k, String(q.fromS + (shift % bucketS))] : [k, v],
          );
          expect(candlesQueryString(expectOk(parseCandlesQuery(new URLSearchParams(inside), nowMs)))).toBe(spelled);
        },
      ),
    );
  });
});

function expectOk<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(`expected ok: ${JSON.stringify(r.error)}`);
  return r.value;
}

describe("parsePriceQuery", () => {
  it("puts every spelling of one currency set in one order", () => {
    const spell = (q: string) => parsePriceQuery(new URLSearchParams(q));
    for (const q of ["currencies=eur,usd", "currencies=USD,EUR", "currencies=usd,EUR,usd"]) {
      expect(spell(q)).toEqual({ ok: true, value: { currencies: ["USD", "EUR"] } });
    }
    expect(spell("")).toEqual({ ok: true, value: { currencies: ["USD"] } });
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  HISTORY_DEFAULT_LIMIT,
  HISTORY_MAX_LIMIT,
  historyQueryString,
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

describe("parsePriceQuery", () => {
  it("puts every spelling of one currency set in one order", () => {
    const spell = (q: string) => parsePriceQuery(new URLSearchParams(q));
    for (const q of ["currencies=eur,usd", "currencies=USD,EUR", "currencies=usd,EUR,usd"]) {
      expect(spell(q)).toEqual({ ok: true, value: { currencies: ["USD", "EUR"] } });
    }
    expect(spell("")).toEqual({ ok: true, value: { currencies: ["USD"] } });
  });
});

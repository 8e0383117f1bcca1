import { describe, expect, it } from "vitest";
import { parseHistoryQuery, parsePricefeedQuery } from "../../src/protocol";

const NOW = Date.UTC(2026, 10, 24, 20, 0, 0);
const parse = (q: string) => parsePricefeedQuery(new URLSearchParams(q), NOW);

describe("parsePricefeedQuery", () => {
  it("defaults to USD and no client id", () => {
    expect(parse("")).toEqual({
      ok: true,
      value: { clientId: null, currencies: ["USD"], currenciesGiven: false, startTimedate: null, lastSeq: null, epoch: null },
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
  it("defaults to the last hour of USD", () => {
    expect(parseHistoryQuery(new URLSearchParams(""), NOW)).toEqual({
      ok: true,
      value: { currency: "USD", fromS: NOW / 1000 - 3600, toS: NOW / 1000 },
    });
  });

  it.each(["currency=USD,EUR", "from=10&to=5", "from=x", "from=0&to=999999"])("rejects %s", (q) => {
    expect(parseHistoryQuery(new URLSearchParams(q), NOW).ok).toBe(false);
  });
});

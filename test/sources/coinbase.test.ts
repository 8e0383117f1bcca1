import { describe, expect, it } from "vitest";
import { SUPPORTED_CURRENCIES } from "../../src/protocol";
import { coinbaseUrl, parseCoinbaseRates } from "../../src/sources/coinbase";
import exchangeRates from "../fixtures/sources/coinbase-exchange-rates.json";
import { testConfig } from "../support/poll-harness";

const withRates = (rates: Record<string, unknown>) => ({ data: { currency: "BTC", rates } });

describe("coinbase", () => {
  it("builds the exchange-rates request", () => {
    expect(coinbaseUrl(testConfig())).toBe("http://coinbase.test/v2/exchange-rates?currency=BTC");
  });

  it("parses the real-shaped body for every supported currency, ignoring crypto codes", () => {
    expect(parseCoinbaseRates(exchangeRates, SUPPORTED_CURRENCIES)).toEqual({
      USD: 104123.45,
      EUR: 95870.12,
      GBP: 81234.56,
      JPY: 15700000,
      CAD: 143950.2,
      CHF: 83020.7,
      AUD: 158700.9,
    });
  });

  it("returns only the currencies asked for; a missing one is simply absent", () => {
    expect(parseCoinbaseRates(exchangeRates, ["USD", "GBP"])).toEqual({ USD: 104123.45, GBP: 81234.56 });
    expect(parseCoinbaseRates(withRates({ USD: "100" }), ["USD", "EUR"])).toEqual({ USD: 100 });
  });

  it("rejects a body with none of the asked currencies", () => {
    expect(() => parseCoinbaseRates(withRates({ ETH: "31" }), ["USD", "EUR"])).toThrow(/none of USD,EUR/);
  });

  it.each([["0"], ["-104123.45"], ["NaN"], ["Infinity"], ["1,234.5"], [""], [null], [true]])(
    "rejects the price %j",
    (value) => {
      expect(() => parseCoinbaseRates(withRates({ USD: value }), ["USD"])).toThrow(
        expect.objectContaining({ kind: "parse" }),
      );
    },
  );

  it("rejects rates that are not for BTC", () => {
    expect(() => parseCoinbaseRates({ data: { currency: "ETH", rates: { USD: "3000" } } }, ["USD"])).toThrow(/not BTC/);
  });

  it("rejects bodies of the wrong shape", () => {
    expect(() => parseCoinbaseRates("oops", ["USD"])).toThrow(/not a JSON object/);
    expect(() => parseCoinbaseRates({ data: {} }, ["USD"])).toThrow(/"rates" is missing/);
    expect(() => parseCoinbaseRates({}, ["USD"])).toThrow(/"data" is missing/);
  });

  it("reports an API error body as an upstream error", () => {
    const body = { errors: [{ id: "internal_server_error", message: "Internal server error" }] };
    expect(() => parseCoinbaseRates(body, ["USD"])).toThrow(
      expect.objectContaining({ kind: "upstream", message: "coinbase: Internal server error" }),
    );
  });
});

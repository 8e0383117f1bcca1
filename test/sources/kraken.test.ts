import { describe, expect, it } from "vitest";
import { SUPPORTED_CURRENCIES } from "../../src/protocol";
import { krakenUrl, parseKrakenTicker } from "../../src/sources/kraken";
import krakenError from "../fixtures/sources/kraken-error.json";
import ticker from "../fixtures/sources/kraken-ticker.json";
import { testConfig } from "../support/poll-harness";

const withResult = (result: Record<string, unknown>) => ({ error: [], result });

describe("kraken", () => {
  it("builds the ticker request with Kraken's pair names", () => {
    expect(krakenUrl(testConfig(), ["USD", "EUR", "CHF"])).toBe(
      "http://kraken.test/0/public/Ticker?pair=XBTUSD,XBTEUR,XBTCHF",
    );
  });

  it("parses the last trade price c[0] under both legacy (XXBTZUSD) and new (XBTCHF) keys", () => {
    expect(parseKrakenTicker(ticker, SUPPORTED_CURRENCIES)).toEqual({ USD: 82998.9, EUR: 76409.9, CHF: 73000.5 });
  });

  it("leaves out currencies the body lacks and ignores the ones not asked for", () => {
    expect(parseKrakenTicker(ticker, ["EUR", "GBP"])).toEqual({ EUR: 76409.9 });
  });

  it("turns the HTTP-200 error body into an upstream error with Kraken's message", () => {
    expect(() => parseKrakenTicker(krakenError, ["USD"])).toThrow(
      expect.objectContaining({ kind: "upstream", message: "kraken: EQuery:Unknown asset pair" }),
    );
  });

  it("calls Kraken's rate-limit error rate_limited", () => {
    expect(() => parseKrakenTicker({ error: ["EAPI:Rate limit exceeded"] }, ["USD"])).toThrow(
      expect.objectContaining({ kind: "rate_limited" }),
    );
  });

  it("rejects a body with none of the asked currencies", () => {
    expect(() => parseKrakenTicker(withResult({}), ["USD"])).toThrow(/none of USD/);
  });

  it.each([["0"], ["-1"], ["NaN"], ["abc"]])("rejects the price %j", (price) => {
    expect(() => parseKrakenTicker(withResult({ XXBTZUSD: { c: [price, "1"] } }), ["USD"])).toThrow(
      expect.objectContaining({ kind: "parse" }),
    );
  });

  it("rejects bodies of the wrong shape", () => {
    expect(() => parseKrakenTicker([], ["USD"])).toThrow(/not a JSON object/);
    expect(() => parseKrakenTicker({ result: {} }, ["USD"])).toThrow(/"error" is missing/);
    expect(() => parseKrakenTicker({ error: [] }, ["USD"])).toThrow(/"result" is missing/);
    expect(() => parseKrakenTicker(withResult({ XXBTZUSD: { a: ["1"] } }), ["USD"])).toThrow(/XXBTZUSD\.c\[0\]/);
  });
});

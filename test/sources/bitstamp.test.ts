import { afterEach, describe, expect, it } from "vitest";
import { bitstamp, bitstampUrl, combineBitstampResults, parseBitstampTicker } from "../../src/sources/bitstamp";
import { SourceError } from "../../src/sources/errors";
import tickerUsd from "../fixtures/sources/bitstamp-ticker-btcusd.json";
import { installFakeUpstream, type FakeUpstreamController } from "../support/fake-upstream";
import { testConfig } from "../support/poll-harness";

/** A clock a few seconds after the fixture's own timestamp. */
const atFixture = { nowMs: Number(tickerUsd.timestamp) * 1000 + 5_000, maxAgeMs: 120_000 };

describe("bitstamp", () => {
  let fake: FakeUpstreamController | null = null;
  afterEach(() => {
    fake?.restore();
    fake = null;
  });

  it("builds one request per currency", () => {
    expect(bitstampUrl(testConfig(), "EUR")).toBe("http://bitstamp.test/api/v2/ticker/btceur/");
  });

  it("parses `last` from the real-shaped ticker", () => {
    expect(parseBitstampTicker(tickerUsd, atFixture)).toBe(64950);
  });

  it("turns an error body into an upstream error", () => {
    expect(() => parseBitstampTicker({ status: "error", reason: "Unknown pair", code: "API0001" }, atFixture)).toThrow(
      expect.objectContaining({ kind: "upstream", message: "bitstamp: Unknown pair" }),
    );
  });

  it.each([[undefined], ["0"], ["-5"], ["NaN"], [12]])("rejects last = %j unless it is a positive price", (last) => {
    const body = { ...tickerUsd, last };
    if (last === 12) expect(parseBitstampTicker(body, atFixture)).toBe(12);
    else expect(() => parseBitstampTicker(body, atFixture)).toThrow(expect.objectContaining({ kind: "parse" }));
  });

  it("refuses a ticker its own timestamp dates older than MAX_QUOTE_AGE_S, and one without a usable date", () => {
    const later = { ...atFixture, nowMs: Number(tickerUsd.timestamp) * 1000 + 600_000 };
    expect(() => parseBitstampTicker(tickerUsd, later)).toThrow(
      expect.objectContaining({ kind: "stale", message: "bitstamp timestamp: the quote is 600 s old (max 120 s)" }),
    );
    expect(parseBitstampTicker(tickerUsd, { ...later, maxAgeMs: 0 })).toBe(64950); // check off
    expect(parseBitstampTicker({ ...tickerUsd, timestamp: undefined }, later)).toBe(64950); // no date, no check
    expect(() => parseBitstampTicker({ ...tickerUsd, timestamp: "soon" }, atFixture)).toThrow(
      expect.objectContaining({ kind: "parse" }),
    );
  });

  it("keeps the currencies that answered when others failed", () => {
    const quotes = combineBitstampResults(
      ["USD", "EUR", "GBP"],
      [
        { status: "fulfilled", value: 100 },
        { status: "rejected", reason: new SourceError("http", "HTTP 500", { status: 500 }) },
        { status: "fulfilled", value: 80 },
      ],
    );
    expect(quotes).toEqual({ USD: 100, GBP: 80 });
  });

  it("fails with the first error when every currency failed, and with a rate limit wherever it came", () => {
    const http = new SourceError("http", "HTTP 500", { status: 500 });
    const limited = new SourceError("rate_limited", "HTTP 429", { status: 429, retryAfterMs: 1000 });
    expect(() =>
      combineBitstampResults(
        ["USD", "EUR"],
        [
          { status: "rejected", reason: http },
          { status: "rejected", reason: new SourceError("parse", "x") },
        ],
      ),
    ).toThrow(http);
    expect(() =>
      combineBitstampResults(
        ["USD", "EUR"],
        [
          { status: "fulfilled", value: 1 },
          { status: "rejected", reason: limited },
        ],
      ),
    ).toThrow(limited);
  });

  it("asks only for USD, EUR and GBP, one request each", async () => {
    fake = installFakeUpstream({ priceUsd: 100_000 });
    const quotes = await bitstamp.fetchQuotes(["USD", "EUR", "GBP", "JPY", "CHF"], {
      config: testConfig(),
      fetch: (input, init) => globalThis.fetch(input, init),
      signal: new AbortController().signal,
      nowMs: 0,
    });
    expect(quotes).toEqual({ USD: 100_000, EUR: 90_000, GBP: 80_000 });
    expect(fake.requests("bitstamp")).toBe(3);
  });
});

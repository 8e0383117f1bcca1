import { describe, expect, it } from "vitest";
import {
  disputeDetail,
  disputeTitle,
  formatAgo,
  formatAxisValue,
  formatClock,
  formatPercent,
  formatPrice,
  formatSignedPercent,
  formatSignedPrice,
  missedText,
  retryText,
  serverErrorText,
} from "../../src/page/format";

describe("page: format", () => {
  it("formats prices, signed changes and percentages", () => {
    expect(formatPrice(97123.456, "USD", "en-US")).toBe("$97,123.46");
    expect(formatPrice(15700000.4, "JPY", "en-US")).toBe("¥15,700,000");
    expect(formatSignedPrice(12.3, "EUR", "en-US")).toBe("+€12.30");
    expect(formatSignedPrice(-0.5, "GBP", "en-US")).toBe("-£0.50");
    expect(formatSignedPrice(0, "USD", "en-US")).toBe("$0.00");
    expect(formatPercent(10, 1000, "en-US")).toBe("+1.00%");
    expect(formatPercent(-1, 100000, "en-US")).toBe("-0.001%");
    expect(formatPercent(1, 0, "en-US")).toBe("");
    expect(formatSignedPercent(1.29, "en-US")).toBe("+1.29%");
    expect(formatSignedPercent(-0.5, "en-US")).toBe("-0.50%");
    expect(formatSignedPercent(0, "en-US")).toBe("0.00%");
  });

  it("formats times, ages and counts", () => {
    expect(formatClock("2026-11-24T20:00:05.123Z", "en-GB", "UTC")).toBe("20:00:05");
    expect(formatClock("not a date")).toBe("");
    expect(formatAgo(0, 500)).toBe("just now");
    expect(formatAgo(0, 12_000)).toBe("12 s ago");
    expect(formatAgo(0, 4 * 60_000)).toBe("4 min ago");
    expect(formatAgo(0, 3 * 3_600_000)).toBe("3 h ago");
    expect(missedText(12)).toBe("12 prices missed while offline");
    expect(missedText(1)).toBe("1 price missed while offline");
    expect(retryText(4_000, 100)).toBe("retrying in 4 s");
    expect(retryText(0, 100)).toBe("retrying now");
    expect(formatAxisValue(97_100, 100)).toBe("97.1k");
    expect(formatAxisValue(97_000, 1000)).toBe("97k");
    expect(formatAxisValue(15_700_000, 50_000)).toBe("15.70M");
    expect(formatAxisValue(950, 10)).toBe("950");
  });

  it("says which prices are held back and what the sources said", () => {
    const usd = { currency: "USD" as const, quotes: { bitstamp: 97_100, kraken: 971_000 } };
    const jpy = { currency: "JPY" as const, quotes: { kraken: 1_512_180_000 } };
    expect(disputeTitle([usd])).toBe("No new USD price: the sources disagree");
    expect(disputeTitle([jpy])).toBe("No new JPY price: a lone source moved away from the last price");
    expect(disputeTitle([usd, jpy])).toBe("No new USD, JPY prices: the sources disagree");
    expect(disputeDetail([usd, jpy], "en-US")).toBe(
      "USD: bitstamp $97,100.00, kraken $971,000.00 · JPY: kraken ¥1,512,180,000",
    );
  });

  it("words a refused client so that the user knows what happened and what to do", () => {
    expect(serverErrorText("too_many_sockets", "at most 5 sockets per client_id")).toBe(
      "Refused by the server: at most 5 sockets per client_id, and this tab's client id has them all open " +
        "elsewhere (too_many_sockets). Press Open to try again once one of them has closed.",
    );
    expect(serverErrorText("unsupported_currency", 'unsupported currency "XYZ"')).toBe(
      'unsupported currency "XYZ" (unsupported_currency)',
    );
  });
});

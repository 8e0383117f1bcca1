import { describe, expect, it } from "vitest";
import { ALL_SOURCES, enabledSources } from "../../src/sources/registry";
import { testConfig } from "../support/poll-harness";

const names = (config: ReturnType<typeof testConfig>) => enabledSources(config).map((s) => s.name);

describe("enabledSources", () => {
  it("follows PRICE_SOURCES order, once each, ignoring unknown names", () => {
    expect(names(testConfig({ PRICE_SOURCES: "kraken, bogus ,coinbase,kraken" }))).toEqual(["kraken", "coinbase"]);
  });

  it("enables CoinDesk only with its key", () => {
    expect(names(testConfig({ PRICE_SOURCES: "coindesk,coinbase" }))).toEqual(["coinbase"]);
    expect(names(testConfig({ PRICE_SOURCES: "coindesk,coinbase", COINDESK_API_KEY: "k" }))).toEqual([
      "coindesk",
      "coinbase",
    ]);
  });

  it("knows every source by a unique name", () => {
    const all = ALL_SOURCES.map((s) => s.name);
    expect(all).toEqual(["coindesk", "coinbase", "kraken", "bitstamp", "simulated"]);
    expect(names(testConfig({ PRICE_SOURCES: all.join(","), COINDESK_API_KEY: "k" }))).toEqual(all);
  });
});

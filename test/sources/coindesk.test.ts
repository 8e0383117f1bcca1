import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_COINDESK_MIN_INTERVAL_MS, readConfig } from "../../src/config";
import { SUPPORTED_CURRENCIES } from "../../src/protocol";
import { coindesk, coindeskHeaders, coindeskUrl, parseCoindeskTick } from "../../src/sources/coindesk";
import groupsValue from "../fixtures/sources/coindesk-data-api-groups-value.json";
import tick from "../fixtures/sources/coindesk-data-api-tick.json";
import { installFakeUpstream, type FakeUpstreamController } from "../support/fake-upstream";
import { testConfig } from "../support/poll-harness";

const at = (unixSeconds: number, maxAgeS = 120) => ({ nowMs: unixSeconds * 1000 + 5_000, maxAgeMs: maxAgeS * 1000 });
const usdUpdatedAt = tick.Data["BTC-USD"].VALUE_LAST_UPDATE_TS;
/** Any clock will do for bodies that carry no dates. */
const undated = at(0);

describe("coindesk", () => {
  let fake: FakeUpstreamController | null = null;
  afterEach(() => {
    fake?.restore();
    fake = null;
  });

  it("builds the Data API request with instruments and the VALUE group", () => {
    expect(coindeskUrl(testConfig(), ["USD", "EUR"])).toBe(
      "http://coindesk.test/index/cc/v1/latest/tick?market=cadli&instruments=BTC-USD,BTC-EUR&groups=VALUE",
    );
    expect(coindeskHeaders("secret")).toEqual({ Authorization: "Apikey secret" });
  });

  it("is enabled only with an API key", () => {
    expect(coindesk.isEnabled(testConfig())).toBe(false);
    expect(coindesk.isEnabled(testConfig({ COINDESK_API_KEY: "k" }))).toBe(true);
    expect(coindesk.minIntervalMs(testConfig({ COINDESK_MIN_INTERVAL_MS: "60000" }))).toBe(60_000);
  });

  it("parses VALUE from the full and the VALUE-group bodies", () => {
    expect(parseCoindeskTick(tick, SUPPORTED_CURRENCIES, at(usdUpdatedAt))).toEqual({
      USD: 96353.9044445288,
      EUR: 92014.2210341,
    });
    expect(
      parseCoindeskTick(groupsValue, ["USD", "EUR"], at(groupsValue.Data["BTC-EUR"].VALUE_LAST_UPDATE_TS)),
    ).toEqual({ EUR: 70009.4455389552 });
  });

  it("turns Err without usable Data into an upstream error", () => {
    const body = {
      Data: {},
      Err: { type: 1, message: "You need a valid auth key or api key to access this endpoint" },
    };
    expect(() => parseCoindeskTick(body, ["USD"], undated)).toThrow(expect.objectContaining({ kind: "upstream" }));
  });

  it("uses Data when Err only describes instruments left out", () => {
    const body = { Data: { "BTC-USD": { VALUE: 100 } }, Err: { type: 2, message: "BTC-XYZ not found" } };
    expect(parseCoindeskTick(body, ["USD", "EUR"], undated)).toEqual({ USD: 100 });
  });

  it.each([[0], [-1], ["NaN"], [null], [{}]])("rejects VALUE %j", (value) => {
    expect(() => parseCoindeskTick({ Data: { "BTC-USD": { VALUE: value } }, Err: {} }, ["USD"], undated)).toThrow(
      expect.objectContaining({ kind: "parse" }),
    );
  });

  it("leaves out an instrument whose last update is older than MAX_QUOTE_AGE_S, and fails when all are", () => {
    const now = 1_800_000_000;
    const body = {
      Data: {
        "BTC-USD": { VALUE: 100, VALUE_LAST_UPDATE_TS: now - 1 },
        "BTC-EUR": { VALUE: 90, VALUE_LAST_UPDATE_TS: now - 900 },
      },
      Err: {},
    };
    expect(parseCoindeskTick(body, ["USD", "EUR"], at(now))).toEqual({ USD: 100 });
    expect(() => parseCoindeskTick(body, ["EUR"], at(now))).toThrow(
      expect.objectContaining({
        kind: "stale",
        message: expect.stringMatching(/^coindesk BTC-EUR: the quote is 905 s old/),
      }),
    );
    expect(parseCoindeskTick(body, ["EUR"], at(now, 0))).toEqual({ EUR: 90 });
  });

  it("rejects bodies of the wrong shape or without the asked instruments", () => {
    expect(() => parseCoindeskTick(null, ["USD"], undated)).toThrow(/not a JSON object/);
    expect(() => parseCoindeskTick({ Err: {} }, ["USD"], undated)).toThrow(/"Data" is missing/);
    expect(() => parseCoindeskTick({ Data: {}, Err: {} }, ["USD"], undated)).toThrow(/none of USD/);
  });

  it("sends the key and gets 401 from the fake without it", async () => {
    fake = installFakeUpstream({ priceUsd: 100_000 });
    const ctx = {
      fetch: (input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init),
      signal: new AbortController().signal,
      nowMs: 0,
    };
    await expect(
      coindesk.fetchQuotes(["USD", "JPY"], { ...ctx, config: testConfig({ COINDESK_API_KEY: "k" }) }),
    ).resolves.toEqual({ USD: 100_000, JPY: 15_000_000 });
    fake.setMode("coindesk", "401");
    await expect(
      coindesk.fetchQuotes(["USD"], { ...ctx, config: testConfig({ COINDESK_API_KEY: "k" }) }),
    ).rejects.toMatchObject({ kind: "http", status: 401 });
  });
});

describe("coindesk's quota", () => {
  it("spaces calls by default so a 31-day month stays under 90 % of 100,000 calls, whatever the poll interval", () => {
    const config = readConfig({ POLL_INTERVAL_MS: "1000" });
    expect(config.coindeskMinIntervalMs).toBe(DEFAULT_COINDESK_MIN_INTERVAL_MS);
    const callsPer31Days = (31 * 86_400_000) / Math.max(config.coindeskMinIntervalMs, config.pollIntervalMs);
    expect(callsPer31Days).toBeLessThanOrEqual(0.9 * 100_000);
    expect(coindesk.minIntervalMs(config)).toBe(DEFAULT_COINDESK_MIN_INTERVAL_MS);
    expect(readConfig({ COINDESK_MIN_INTERVAL_MS: "0" }).coindeskMinIntervalMs).toBe(0);
  });
});

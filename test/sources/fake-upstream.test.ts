import { afterEach, describe, expect, it } from "vitest";
import {
  applyControl,
  createFakeUpstreamState,
  handleFakeUpstream,
  installFakeUpstream,
  routeUpstream,
  type FakeUpstreamController,
} from "../support/fake-upstream";

describe("fake upstream", () => {
  let fake: FakeUpstreamController | null = null;
  afterEach(() => {
    fake?.restore();
    fake = null;
  });

  it("routes by host and by path prefix", () => {
    expect(routeUpstream(new URL("http://kraken.test/0/public/Ticker?pair=XBTUSD"))).toEqual({
      source: "kraken",
      path: "/0/public/Ticker",
    });
    expect(routeUpstream(new URL("http://127.0.0.1:8790/coinbase/v2/exchange-rates"))).toEqual({
      source: "coinbase",
      path: "/v2/exchange-rates",
    });
    expect(routeUpstream(new URL("http://127.0.0.1:8790/elsewhere/x"))).toBeNull();
    expect(routeUpstream(new URL("http://other.test/"))).toBeNull();
  });

  it("answers in timeout mode only when the signal aborts", async () => {
    fake = installFakeUpstream({ modes: { kraken: "timeout" } });
    const controller = new AbortController();
    const pending = fetch("http://kraken.test/0/public/Ticker?pair=XBTUSD", { signal: controller.signal });
    let settled = false;
    pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    controller.abort(new DOMException("stop", "TimeoutError"));
    await expect(pending).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("rejects with a TypeError when refused, and counts requests per source", async () => {
    fake = installFakeUpstream({ modes: { bitstamp: "refused" } });
    await expect(fetch("http://bitstamp.test/api/v2/ticker/btcusd/")).rejects.toBeInstanceOf(TypeError);
    expect(fake.requests("bitstamp")).toBe(1);
    expect(fake.requests("kraken")).toBe(0);
  });

  it("sends 429 with Retry-After and 401 without a CoinDesk key", async () => {
    const state = createFakeUpstreamState({ modes: { coinbase: "429" }, retryAfterS: 7 });
    const limited = await handleFakeUpstream(state, new Request("http://coinbase.test/v2/exchange-rates?currency=BTC"));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("7");
    const noKey = await handleFakeUpstream(
      state,
      new Request("http://coindesk.test/index/cc/v1/latest/tick?instruments=BTC-USD"),
    );
    expect(noKey.status).toBe(401);
  });

  it("applies control documents and rejects bad ones", () => {
    const state = createFakeUpstreamState();
    expect(applyControl(state, { price: 70000, mode: { kraken: "500" }, offsetPct: { bitstamp: 1 } })).toBeNull();
    expect(state.priceUsd).toBe(70000);
    expect(state.modes.kraken).toBe("500");
    expect(state.offsetPct.bitstamp).toBe(1);
    expect(applyControl(state, { mode: { kraken: "bogus" } })).toMatch(/unknown mode/);
    expect(applyControl(state, { mode: { nobody: "ok" } })).toMatch(/unknown source/);
    expect(applyControl(state, { price: "high" })).toMatch(/price/);
    expect(applyControl(state, [])).toMatch(/object/);
  });

  it("keeps giving a stuck source's last answer while the price moves, then follows it again", async () => {
    const state = createFakeUpstreamState({ priceUsd: 100_000 });
    const usd = async () => {
      const response = await handleFakeUpstream(
        state,
        new Request("http://coinbase.test/v2/exchange-rates?currency=BTC"),
      );
      return ((await response.json()) as { data: { rates: Record<string, string> } }).data.rates.USD;
    };
    expect(await usd()).toBe("100000.00");
    expect(applyControl(state, { price: 101_000, mode: { coinbase: "stuck" } })).toBeNull();
    expect(await usd()).toBe("100000.00");
    state.priceUsd = 102_000;
    expect(await usd()).toBe("100000.00");
    state.modes.coinbase = "ok";
    expect(await usd()).toBe("102000.00");
  });

  it("passes other hosts to the real fetch and restores it", () => {
    const original = globalThis.fetch;
    fake = installFakeUpstream();
    expect(globalThis.fetch).not.toBe(original);
    fake.restore();
    expect(globalThis.fetch).toBe(original);
  });
});

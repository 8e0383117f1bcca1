import { describe, expect, it } from "vitest";
import { servePage, contentSecurityPolicy } from "../../src/http/page";
import { PAGE_ASSETS, PAGE_HTML } from "../../src/page/generated/assets";
import {
  linePath,
  linearScale,
  mergeSeries,
  nearestIndex,
  niceStep,
  priceDomain,
  ticks,
  timeDomain,
  timeTicks,
  trimSeries,
  type ChartPoint,
} from "../../src/page/chart-scale";
import {
  disputeDetail,
  disputeTitle,
  formatAgo,
  formatAxisValue,
  formatClock,
  formatPercent,
  formatPrice,
  formatSignedPrice,
  missedText,
  retryText,
} from "../../src/page/format";
import { parseHistory, parsePriceSnapshot } from "../../src/page/frames";
import { parseServerFrame } from "../../src/protocol";
import {
  connectionOf,
  initialState,
  reduce,
  watchedDisputes,
  type ViewEvent,
  type ViewState,
} from "../../src/page/state";
import type { PriceTick, WelcomeInfo } from "../../src/sdk";
import type { Dispute } from "../../src/protocol";
import { documented } from "../support/api-docs";

const BASE = "https://btc.example.com";

/** The page's answer; reading its body checks it against docs/openapi.yaml. */
function get(path: string, init: RequestInit = {}): Response {
  const request = new Request(BASE + path, init);
  const res = servePage(request);
  if (!res) throw new Error(`servePage returned null for ${path}`);
  return documented(request, res);
}

function assetPaths(html: string): { script: string; style: string; icon: string } {
  const script = /<script type="module" src="([^"]+)"><\/script>/.exec(html)?.[1];
  const style = /<link rel="stylesheet" href="([^"]+)">/.exec(html)?.[1];
  const icon = /<link rel="icon" type="image\/svg\+xml" href="([^"]+)">/.exec(html)?.[1];
  if (!script || !style || !icon) throw new Error("the page does not link its assets");
  return { script, style, icon };
}

describe("servePage: the HTML", () => {
  for (const path of ["/", "/home"]) {
    it(`serves the page at ${path} with the security headers`, async () => {
      const res = get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const csp = res.headers.get("content-security-policy") ?? "";
      const directives = Object.fromEntries(
        csp.split(";").map((d) => {
          const [name, ...values] = d.trim().split(/\s+/);
          return [name, values.join(" ")];
        }),
      );
      expect(directives).toMatchObject({
        "default-src": "'none'",
        "script-src": "'self'",
        "style-src": "'self'",
        "connect-src": "'self' ws://btc.example.com wss://btc.example.com",
        "img-src": "'self' data:",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "'none'",
      });
      expect(csp).not.toContain("unsafe");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("permissions-policy")).toContain("camera=()");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("etag")).toBe(PAGE_HTML.etag);
      const html = await res.text();
      expect(html).toMatch(/^<!doctype html>/i);
      expect(html).toContain('<html lang="en">');
      expect(html).toContain('name="viewport"');
      expect(html).toContain('data-testid="open"');
      expect(html).toContain('data-testid="close"');
      expect(html).toContain('data-testid="status"');
    });
  }

  it("has no inline script, inline style, event handler or external origin", async () => {
    const html = await get("/home").text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//i);
    const { script, style, icon } = assetPaths(html);
    for (const p of [script, style, icon]) expect(p).toMatch(/^\/assets\/[a-z]+\.[0-9a-f]{12}\.(js|css|svg)$/);
  });

  it("answers a matching If-None-Match with 304 and HEAD without a body", async () => {
    const res = get("/home", { headers: { "If-None-Match": PAGE_HTML.etag } });
    expect(res.status).toBe(304);
    expect(res.body).toBeNull();
    const head = get("/home", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
  });

  it("refuses other methods on its paths and ignores other paths", async () => {
    const res = get("/home", { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect(await res.json()).toEqual({
      error: { code: "method_not_allowed", message: expect.stringContaining("POST") },
    });
    for (const path of ["/api/price", "/pricefeed", "/health", "/home/x", "/assets/nope.js", "/index.html"]) {
      expect(servePage(new Request(BASE + path)), path).toBeNull();
    }
  });
});

describe("servePage: the assets", () => {
  it("serves the script, stylesheet and icon under hashed paths, cached for a year", async () => {
    const { script, style, icon } = assetPaths(await get("/").text());
    const cases: [string, string][] = [
      [script, "text/javascript; charset=utf-8"],
      [style, "text/css; charset=utf-8"],
      [icon, "image/svg+xml"],
    ];
    for (const [path, type] of cases) {
      const res = get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const body = await res.text();
      expect(body).toBe(PAGE_ASSETS[path]!.body);
      expect(body.length).toBeGreaterThan(100);
    }
    expect(Object.keys(PAGE_ASSETS).sort()).toEqual([icon, script, style].sort());
  });

  it("bundles a script that opens /pricefeed on the page's own origin and loads nothing from elsewhere", async () => {
    const { script, style } = assetPaths(await get("/").text());
    const js = await get(script).text();
    expect(js).toContain("/pricefeed");
    expect(js).toContain("/api/history");
    expect(js).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(js).not.toMatch(/\binnerHTML\b|\bouterHTML\b|insertAdjacentHTML|document\.write|\beval\(/);
    const css = await get(style).text();
    expect(css).not.toMatch(/@import|url\((?!#)/);
  });

  it("names the request's own host in connect-src", () => {
    expect(contentSecurityPolicy(new URL("http://127.0.0.1:8787/home"))).toContain(
      "connect-src 'self' ws://127.0.0.1:8787 wss://127.0.0.1:8787",
    );
  });
});

// ---- the page's pure modules (no DOM) -----------------------------------------------

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
});

const pt = (seq: number, t: number, price: number, replayed = false): ChartPoint => ({ seq, t, price, replayed });

describe("page: chart scaling", () => {
  it("maps domains to ranges, including an empty domain", () => {
    const x = linearScale([0, 100], [10, 210]);
    expect(x(0)).toBe(10);
    expect(x(50)).toBe(110);
    expect(linearScale([5, 5], [0, 100])(5)).toBe(50);
  });

  it("picks nice steps and ticks", () => {
    expect(niceStep(1000, 5)).toBe(200);
    expect(niceStep(0.3, 3)).toBeCloseTo(0.1);
    expect(niceStep(123, 5)).toBe(25);
    expect(ticks(96_950, 97_410, 100)).toEqual([97_000, 97_100, 97_200, 97_300, 97_400]);
    expect(ticks(0.1, 0.35, 0.1)).toEqual([0.1, 0.2, 0.3]);
    expect(ticks(5, 1, 1)).toEqual([]);
    const hour = timeTicks(Date.UTC(2026, 0, 1, 10, 3), Date.UTC(2026, 0, 1, 11, 3), 4);
    expect(hour.map((t) => new Date(t).toISOString().slice(11, 16))).toEqual(["10:15", "10:30", "10:45", "11:00"]);
    const minute = timeTicks(Date.UTC(2026, 0, 1, 10, 3, 10), Date.UTC(2026, 0, 1, 10, 4, 10), 5);
    expect(minute.map((t) => new Date(t).toISOString().slice(11, 19))).toEqual([
      "10:03:15",
      "10:03:30",
      "10:03:45",
      "10:04:00",
    ]);
    expect(timeTicks(5, 5, 4)).toEqual([]);
  });

  it("pads the price domain and keeps a flat series centred", () => {
    expect(priceDomain([])).toBeNull();
    const [lo, hi] = priceDomain([pt(1, 0, 100), pt(2, 1, 200)])!;
    expect(lo).toBeCloseTo(92);
    expect(hi).toBeCloseTo(208);
    const [flo, fhi] = priceDomain([pt(1, 0, 97_000), pt(2, 1, 97_000)])!;
    expect((flo + fhi) / 2).toBeCloseTo(97_000);
    expect(fhi - flo).toBeGreaterThan(40);
  });

  it("shows the last hour, zoomed in on the data while there is less of it", () => {
    const now = 10_000_000;
    expect(timeDomain([], now, 3_600_000, 180_000)).toEqual([now - 3_600_000, now]);
    expect(timeDomain([pt(1, now - 4_000_000, 1)], now, 3_600_000, 180_000)).toEqual([now - 3_600_000, now]);
    expect(timeDomain([pt(1, now - 60_000, 1)], now, 3_600_000, 180_000)).toEqual([now - 180_000, now]);
    expect(timeDomain([pt(1, now - 1_000_000, 1)], now, 3_600_000, 180_000)).toEqual([now - 1_080_000, now]);
  });

  it("merges series by seq, live points winning, and trims to the window", () => {
    const merged = mergeSeries([pt(1, 1000, 1), pt(2, 2000, 2)], [pt(2, 2000, 2, true), pt(3, 3000, 3)]);
    expect(merged.map((p) => [p.seq, p.replayed])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
    // Keeps the last point before the window so the line enters from the left edge.
    expect(trimSeries(merged, 2500).map((p) => p.seq)).toEqual([2, 3]);
    expect(trimSeries(merged, 0, 2).map((p) => p.seq)).toEqual([2, 3]);
  });

  it("draws a step line ending at now and finds the nearest point", () => {
    const x = linearScale([0, 100], [0, 100]);
    const y = linearScale([0, 10], [100, 0]);
    expect(linePath([pt(1, -10, 5), pt(2, 50, 7)], x, y, 0, 100)).toBe("M0 50H50V30H100");
    expect(linePath([], x, y, 0, 100)).toBe("");
    const points = [pt(1, 0, 1), pt(2, 10, 1), pt(3, 30, 1)];
    expect(nearestIndex(points, -5)).toBe(0);
    expect(nearestIndex(points, 12)).toBe(1);
    expect(nearestIndex(points, 25)).toBe(2);
    expect(nearestIndex(points, 99)).toBe(2);
    expect(nearestIndex([], 1)).toBe(-1);
  });
});

describe("page: frames and API bodies", () => {
  it("parses server frames and rejects junk", () => {
    expect(parseServerFrame("pong")).toBeNull();
    expect(parseServerFrame('{"type":"nope"}')).toBeNull();
    expect(parseServerFrame('{"type":"price","seq":"1","prices":{}}')).toBeNull();
    expect(
      parseServerFrame(
        '{"type":"price","seq":4,"ts":1764014405,"time":"2026-11-24T20:00:05.123Z","prices":{"USD":97123.45,"XXX":1,"EUR":-1},"sources":["coinbase"],"replayed":true}',
      ),
    ).toEqual({
      type: "price",
      seq: 4,
      ts: 1764014405,
      time: "2026-11-24T20:00:05.123Z",
      prices: { USD: 97123.45 },
      sources: ["coinbase"],
      replayed: true,
    });
    expect(parseServerFrame('{"type":"replay_end","count":12}')).toEqual({ type: "replay_end", count: 12 });
    expect(parseServerFrame('{"type":"status","state":"stale","since":1764014405}')).toEqual({
      type: "status",
      state: "stale",
      since: 1764014405,
    });
  });

  it("parses a disputed status and per-currency sources, dropping what it does not know", () => {
    expect(
      parseServerFrame(
        JSON.stringify({
          type: "status",
          state: "disputed",
          since: 1764014405,
          disputes: [
            { currency: "JPY", quotes: { kraken: 151_000_000, bad: "x" } },
            { currency: "XXX", quotes: {} },
            "junk",
          ],
        }),
      ),
    ).toEqual({
      type: "status",
      state: "disputed",
      since: 1764014405,
      disputes: [{ currency: "JPY", quotes: { kraken: 151_000_000 } }],
    });
    const frame = (bySource: unknown) =>
      parseServerFrame(
        JSON.stringify({
          type: "price",
          seq: 1,
          ts: 1,
          prices: { USD: 1, JPY: 150 },
          sources: ["a", "b"],
          sources_by_currency: bySource,
        }),
      );
    expect(frame({ JPY: ["b"], XXX: ["a"] })).toMatchObject({ sources_by_currency: { JPY: ["b"] } });
    expect(frame({ XXX: ["a"] })).not.toHaveProperty("sources_by_currency");
    expect(frame(undefined)).not.toHaveProperty("sources_by_currency");
  });

  it("reads /api/history and /api/price bodies", () => {
    const h = parseHistory({
      currency: "USD",
      from: 0,
      to: 10,
      points: [
        { seq: 2, ts: 5, time: "1970-01-01T00:00:05.500Z", price: 2 },
        { seq: 1, ts: 4, price: 1 },
        { seq: 3, ts: 6, price: "x" },
      ],
    });
    expect(h).toEqual({
      currency: "USD",
      points: [pt(1, 4000, 1), pt(2, 5500, 2)],
      next: null,
    });
    const page = (next: unknown) => parseHistory({ currency: "EUR", points: [], next })?.next;
    expect(page("/api/history?currency=EUR&from=60&limit=2000&after=42")).toBe(
      "/api/history?currency=EUR&from=60&limit=2000&after=42",
    );
    for (const elsewhere of [
      "https://evil.example/api/history?x=1",
      "//evil.example/api/history?a",
      "/health",
      "/api/history?a=<b>",
      7,
      null,
    ]) {
      expect(page(elsewhere)).toBeNull();
    }
    expect(parseHistory({ error: { code: "x", message: "y" } })).toBeNull();
    expect(
      parsePriceSnapshot({ seq: 9, ts: 10, time: "1970-01-01T00:00:10.000Z", prices: { EUR: 5 }, sources: ["a"] }),
    ).toEqual({
      seq: 9,
      time: "1970-01-01T00:00:10.000Z",
      prices: { EUR: 5 },
      sources: ["a"],
    });
  });
});

describe("page: view state", () => {
  const T0 = Date.UTC(2026, 10, 24, 20, 0, 0);
  const price = (seq: number, prices: Partial<Record<"USD" | "EUR" | "GBP", number>>, replayed = false): ViewEvent => ({
    type: "price",
    tick: {
      seq,
      ts: Math.floor((T0 + seq * 5000) / 1000),
      time: new Date(T0 + seq * 5000).toISOString(),
      prices,
      sources: ["coinbase", "kraken"],
      replayed,
    } satisfies PriceTick,
    nowMs: T0 + 60_000,
  });
  const welcome = (currencies: ("USD" | "EUR" | "GBP")[], resumed = false): ViewEvent => ({
    type: "welcome",
    info: {
      clientId: "abc",
      currencies,
      resumed,
      intervalMs: 5000,
      epoch: "e1",
      protocol: "1.0",
    } satisfies WelcomeInfo,
  });
  const link = (
    state: "connecting" | "open" | "reconnecting" | "closed",
    attempt = 0,
    retryAt: number | null = null,
    resuming = false,
  ): ViewEvent => ({
    type: "link",
    state,
    attempt,
    retryAt,
    resuming,
  });
  const run = (s: ViewState, ...events: ViewEvent[]) => events.reduce(reduce, s);

  it("goes connecting → live on welcome and tracks changes per currency", () => {
    let s = reduce(initialState({ currencies: ["USD", "EUR"] }), link("connecting"));
    expect(s.connection).toBe("connecting");
    s = run(
      s,
      welcome(["USD", "EUR"]),
      link("open"),
      price(1, { USD: 100, EUR: 90 }),
      price(2, { USD: 101, EUR: 90 }),
      price(3, { USD: 99.5, EUR: 91 }),
    );
    expect(s.connection).toBe("live");
    expect(s.clientId).toBe("abc");
    expect(s.confirmed).toEqual(["USD", "EUR"]);
    expect(s.lastSeq).toBe(3);
    expect(s.prices.USD).toMatchObject({ price: 99.5, previous: 101, change: -1.5, seq: 3, replayed: false });
    expect(s.prices.EUR).toMatchObject({ price: 91, previous: 90, change: 1 });
    expect(s.series.USD!.map((p) => p.price)).toEqual([100, 101, 99.5]);
    expect(s.ticks.map((t) => t.seq)).toEqual([3, 2, 1]);
  });

  it("shows reconnecting with the retry time and attempt, and closed after Close", () => {
    let s = run(initialState(), link("connecting"), welcome(["USD"]), link("open"), price(5, { USD: 100 }));
    s = reduce(s, link("reconnecting", 1, T0 + 1000));
    expect(s).toMatchObject({
      connection: "reconnecting",
      attempt: 1,
      retryAt: T0 + 1000,
      confirmed: null,
      replaying: false,
    });
    s = reduce(s, link("reconnecting", 1, null, true));
    expect(s.replaying).toBe(true);
    s = run(s, welcome(["USD"], true), link("open"), { type: "replay", count: 0 });
    expect(s).toMatchObject({ connection: "live", attempt: 0, replaying: false, missed: null });
    expect(reduce(s, link("closed")).connection).toBe("closed");
  });

  it("marks replayed prices and shows the replay count, the gaps and a reset", () => {
    let s = run(initialState(), welcome(["USD"]), link("open"), price(1, { USD: 100 }));
    s = run(s, link("closed"), link("connecting", 0, null, true), welcome(["USD"], true), link("open"));
    expect(s.replaying).toBe(true);
    s = run(s, price(2, { USD: 101 }, true), price(3, { USD: 103 }, true));
    expect(s.prices.USD).toMatchObject({ price: 103, replayed: true, change: 2 });
    s = run(s, { type: "gap", range: { fromSeq: 4, toSeq: 4 } }, { type: "replay", count: 2 });
    expect(s.replaying).toBe(false);
    expect(s.missed).toEqual({ count: 2, gaps: [{ fromSeq: 4, toSeq: 4 }], reset: false });
    expect(s.series.USD!.filter((p) => p.replayed).map((p) => p.seq)).toEqual([2, 3]);
    s = run(s, price(5, { USD: 104 }));
    expect(s.prices.USD).toMatchObject({ replayed: false, seq: 5 });
    expect(s.ticks.map((t) => [t.seq, t.replayed])).toEqual([
      [5, false],
      [3, true],
      [2, true],
      [1, false],
    ]);
    s = reduce(s, { type: "dismiss_missed" });
    expect(s.missed).toBeNull();
    // A reset: seq numbers restart, and the notice says why nothing before it can come.
    s = run(s, { type: "reset" }, price(1, { USD: 104.5 }));
    expect(s.missed).toEqual({ count: 0, gaps: [], reset: true });
    expect(s.lastSeq).toBe(1);
    expect(s.prices.USD).toMatchObject({ price: 104.5, previous: 104, seq: 1 });
  });

  const status = (st: "live" | "stale" | "disputed", disputes: Dispute[] = []): ViewEvent => ({
    type: "status",
    status:
      st === "live"
        ? { state: "live" }
        : st === "stale"
          ? { state: "stale", since: Math.floor(T0 / 1000) }
          : { state: "disputed", since: Math.floor(T0 / 1000), disputes },
    nowMs: T0 + 60_000,
  });

  it("shows stale on the pill while open, and live again", () => {
    let s = run(initialState(), welcome(["USD"]), link("open"), price(1, { USD: 100 }));
    s = reduce(s, status("stale"));
    expect(s).toMatchObject({ connection: "stale", staleSince: T0 });
    // While not connected the connection wins; back open, the status shows again.
    s = reduce(s, link("reconnecting", 1, T0));
    expect(s.connection).toBe("reconnecting");
    s = reduce(s, link("open"));
    expect(s.connection).toBe("stale");
    s = reduce(s, status("live"));
    expect(s).toMatchObject({ connection: "live", staleSince: null });
    expect(connectionOf("open", null)).toBe("live");
    expect(connectionOf("closed", T0)).toBe("closed");
  });

  it("shows disputes about the watched currencies until the feed says otherwise", () => {
    const jpy = { currency: "JPY" as const, quotes: { kraken: 1_512_180_000 } };
    const usd = { currency: "USD" as const, quotes: { bitstamp: 97_100, kraken: 971_000 } };
    let s = run(
      initialState({ currencies: ["USD", "EUR"] }),
      welcome(["USD", "EUR"]),
      link("open"),
      price(1, { USD: 100 }),
      status("disputed", [usd, jpy]),
    );
    expect(s.connection).toBe("live");
    expect(s.disputed).toEqual({ sinceMs: T0, disputes: [usd, jpy] });
    expect(watchedDisputes(s)).toEqual([usd]);
    s = reduce(s, status("live"));
    expect(s.disputed).toBeNull();
    // Sources answering again after an outage: disputed replaces stale, and the other way round.
    s = run(s, status("stale"), status("disputed", [usd]));
    expect(s).toMatchObject({ connection: "live", staleSince: null });
    s = reduce(s, status("stale"));
    expect(s.disputed).toBeNull();
    // A reconnect changes nothing by itself: the library re-confirms the status (see test/sdk).
    s = run(s, status("disputed", [usd]), link("reconnecting", 1, T0), link("open"), welcome(["USD", "EUR"], true));
    expect(watchedDisputes(s)).toEqual([usd]);
  });

  it("keeps a currency's own sources from the tick", () => {
    const tick = price(1, { USD: 100, EUR: 90 });
    if (tick.type !== "price") throw new Error("a price event");
    const s = run(initialState({ currencies: ["USD", "EUR"] }), welcome(["USD", "EUR"]), {
      ...tick,
      tick: { ...tick.tick, sourcesByCurrency: { EUR: ["kraken"] } },
    });
    expect(s.prices.EUR?.sources).toEqual(["kraken"]);
    expect(s.prices.USD?.sources).toBeNull();
  });

  it("changes the selection and confirms it from the server", () => {
    let s = run(initialState({ currencies: ["USD"] }), welcome(["USD"]), link("open"));
    s = reduce(s, { type: "select", currencies: ["GBP", "USD"] });
    expect(s.wanted).toEqual(["USD", "GBP"]);
    s = reduce(s, { type: "subscribed", currencies: ["GBP", "USD"] });
    expect(s.confirmed).toEqual(["USD", "GBP"]);
    s = reduce(s, { type: "focus", currency: "GBP" });
    s = reduce(s, { type: "select", currencies: ["USD"] });
    expect(s.focus).toBe("USD");
    expect(reduce(s, { type: "select", currencies: [] })).toBe(s);
  });

  it("merges fetched history with live points and fills unpriced currencies from a snapshot", () => {
    let s = run(initialState({ currencies: ["USD", "EUR"] }), welcome(["USD", "EUR"]), price(10, { USD: 110 }));
    s = reduce(s, {
      type: "history",
      currency: "USD",
      points: [pt(8, T0 + 40_000, 108), pt(9, T0 + 45_000, 109), pt(10, T0 + 50_000, 110)],
      nowMs: T0 + 60_000,
    });
    expect(s.series.USD!.map((p) => p.seq)).toEqual([8, 9, 10]);
    expect(s.historyLoaded.USD).toBe(true);
    s = reduce(s, {
      type: "snapshot",
      snapshot: { seq: 10, time: new Date(T0).toISOString(), prices: { USD: 1, EUR: 95 }, sources: [] },
    });
    expect(s.prices.USD!.price).toBe(110);
    expect(s.prices.EUR).toMatchObject({ price: 95, fromSnapshot: true, change: null });
    s = run(s, price(11, { USD: 110, EUR: 96 }));
    expect(s.prices.EUR).toMatchObject({ price: 96, previous: 95, change: 1, fromSnapshot: false });
    // The chart window slides: points older than an hour go (but the last one before it stays).
    s = reduce(s, { type: "clock", nowMs: T0 + 3_600_000 + 52_000 });
    expect(s.series.USD!.map((p) => p.seq)).toEqual([10, 11]);
  });
});

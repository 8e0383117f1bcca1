import { describe, expect, it } from "vitest";
import { servePage, contentSecurityPolicy } from "../../src/http/page";
import { PAGE_ASSETS, PAGE_HTML } from "../../src/page/generated/assets";
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

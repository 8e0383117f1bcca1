/**
 * Serves the /home page and its assets (built by scripts/build-page.mjs into
 * src/page/generated/assets.ts) with a strict Content-Security-Policy.
 */
import { PAGE_ASSETS, PAGE_HTML, type PageAsset } from "../page/generated/assets";
import { etagMatches } from "./etag";

export const PAGE_PATHS: readonly string[] = ["/", "/home"];

/**
 * The Content-Security-Policy for a page served at `url` (the socket's ws/wss origin is named too:
 * older Safari does not count it as 'self').
 */
export function contentSecurityPolicy(url: URL): string {
  const host = url.host;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self' ws://${host} wss://${host}`,
    "img-src 'self' data:",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join("; ");
}

const PERMISSIONS_POLICY = [
  "accelerometer=()",
  "camera=()",
  "geolocation=()",
  "gyroscope=()",
  "magnetometer=()",
  "microphone=()",
  "payment=()",
  "usb=()",
].join(", ");

function securityHeaders(url: URL): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(url),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
  };
}

function respond(request: Request, url: URL, asset: PageAsset, cacheControl: string): Response {
  const headers = new Headers({
    ...securityHeaders(url),
    "Content-Type": asset.type,
    "Cache-Control": cacheControl,
    ETag: asset.etag,
  });
  if (etagMatches(request.headers.get("If-None-Match"), asset.etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === "HEAD" ? null : asset.body, { status: 200, headers });
}

/**
 * Answers GET/HEAD for `/`, `/home` and the page's `/assets/…` files; 405 for other
 * methods on those paths; null for any other path (the router carries on).
 */
export function servePage(request: Request): Response | null {
  const url = new URL(request.url);
  const path = url.pathname;
  const isPage = PAGE_PATHS.includes(path);
  const asset = isPage ? PAGE_HTML : PAGE_ASSETS[path];
  if (!asset) return null;
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response(
      JSON.stringify({
        error: { code: "method_not_allowed", message: `${request.method} is not allowed on ${path}; use GET` },
      }),
      {
        status: 405,
        headers: { ...securityHeaders(url), "Content-Type": "application/json; charset=utf-8", Allow: "GET, HEAD" },
      },
    );
  }
  // The HTML names the current hashed assets: revalidate it every time (cheap with the ETag).
  // The assets' paths change with their content: cache them for a year.
  return respond(request, url, asset, isPage ? "no-cache" : "public, max-age=31536000, immutable");
}

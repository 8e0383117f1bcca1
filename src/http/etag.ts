/** Strong ETags and If-None-Match, shared by the page and the API. */
import { base64url } from "../shared/random-id";

/** True when an If-None-Match header names `etag` (weak or strong) or is `*`. */
export function etagMatches(header: string | null, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  const bare = etag.replace(/^W\//, "");
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === bare);
}

/** A strong ETag for a body: the first 128 bits of its SHA-256, base64url. */
export async function bodyEtag(body: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)));
  return `"${base64url(digest.subarray(0, 16))}"`;
}

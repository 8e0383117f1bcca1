import { parseError, parseRetryAfterMs, SourceError, toSourceError } from "./errors";
import { USER_AGENT, type SourceContext } from "./types";

/**
 * GETs a JSON document from an upstream: sends the User-Agent, honours the poll's signal, and turns
 * every unusable answer (network failure, non-2xx, HTML page, malformed JSON) into a SourceError.
 */
export async function getJson(url: string, ctx: SourceContext, headers: Record<string, string> = {}): Promise<unknown> {
  let text: string;
  let response: Response;
  try {
    response = await ctx.fetch(url, {
      method: "GET",
      headers: { "User-Agent": USER_AGENT, Accept: "application/json", ...headers },
      signal: ctx.signal,
    });
    text = await response.text();
  } catch (err) {
    throw toSourceError(err, ctx.signal);
  }
  if (!response.ok) throw httpError(response, text, ctx.nowMs);
  return parseJsonBody(text, response.headers.get("Content-Type"));
}

export function httpError(response: Response, body: string, nowMs: number): SourceError {
  const retryAfterMs = parseRetryAfterMs(response.headers.get("Retry-After"), nowMs);
  const message = `HTTP ${response.status}${describeBody(body)}`;
  if (response.status === 429) {
    return new SourceError("rate_limited", message, { status: 429, retryAfterMs });
  }
  return new SourceError("http", message, { status: response.status, retryAfterMs });
}

function describeBody(body: string): string {
  if (looksLikeHtml(body)) return " (HTML page)";
  const excerpt = body.replace(/\s+/g, " ").trim().slice(0, 80);
  return excerpt ? `: ${excerpt}` : "";
}

function looksLikeHtml(text: string): boolean {
  return /^\s*</.test(text);
}

/** Parses a 2xx body; a CDN or captive-portal HTML page with status 200 is an error, not a price. */
export function parseJsonBody(text: string, contentType: string | null): unknown {
  if (looksLikeHtml(text) || contentType?.toLowerCase().includes("text/html")) {
    throw parseError("expected JSON, got an HTML page");
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw parseError(`malformed JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

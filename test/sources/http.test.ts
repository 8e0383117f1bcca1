import { describe, expect, it } from "vitest";
import { SourceError } from "../../src/sources/errors";
import { getJson } from "../../src/sources/http";
import { USER_AGENT, type SourceContext } from "../../src/sources/types";
import { testConfig } from "../support/poll-harness";

const NOW = Date.UTC(2026, 10, 24, 20, 0, 0);

function contextAnswering(
  respond: (request: Request) => Response | Promise<Response>,
  seen: Request[] = [],
): SourceContext {
  return {
    config: testConfig(),
    nowMs: NOW,
    signal: new AbortController().signal,
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      seen.push(request);
      return respond(request);
    }) as typeof fetch,
  };
}

async function failure(ctx: SourceContext): Promise<SourceError> {
  try {
    await getJson("http://coinbase.test/x", ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    return err as SourceError;
  }
  throw new Error("expected getJson to fail");
}

describe("getJson", () => {
  it("sends the User-Agent and extra headers and returns the parsed body", async () => {
    const seen: Request[] = [];
    const ctx = contextAnswering(() => Response.json({ ok: 1 }), seen);
    await expect(getJson("http://coinbase.test/x", ctx, { Authorization: "Apikey k" })).resolves.toEqual({ ok: 1 });
    expect(seen[0]!.headers.get("User-Agent")).toBe(USER_AGENT);
    expect(seen[0]!.headers.get("Authorization")).toBe("Apikey k");
  });

  it("turns 429 into rate_limited with Retry-After in seconds or as a date", async () => {
    const seconds = await failure(
      contextAnswering(() => new Response("slow down", { status: 429, headers: { "Retry-After": "12" } })),
    );
    expect(seconds).toMatchObject({ kind: "rate_limited", status: 429, retryAfterMs: 12_000 });
    const date = await failure(
      contextAnswering(
        () => new Response("", { status: 429, headers: { "Retry-After": new Date(NOW + 60_000).toUTCString() } }),
      ),
    );
    expect(date).toMatchObject({ kind: "rate_limited", status: 429, retryAfterMs: 60_000 });
  });

  it("turns 401 and 5xx into http errors with the status", async () => {
    expect(
      await failure(contextAnswering(() => Response.json({ Err: { message: "key" } }, { status: 401 }))),
    ).toMatchObject({
      kind: "http",
      status: 401,
    });
    const err = await failure(
      contextAnswering(() => new Response("<html><body>Bad gateway</body></html>", { status: 502 })),
    );
    expect(err).toMatchObject({ kind: "http", status: 502, message: "HTTP 502 (HTML page)" });
  });

  it("rejects an HTML page that comes with status 200", async () => {
    const err = await failure(
      contextAnswering(
        () => new Response("<!DOCTYPE html><p>blocked</p>", { headers: { "Content-Type": "text/html" } }),
      ),
    );
    expect(err).toMatchObject({ kind: "parse", message: "expected JSON, got an HTML page" });
  });

  it("rejects malformed JSON", async () => {
    const err = await failure(
      contextAnswering(() => new Response('{"data":', { headers: { "Content-Type": "application/json" } })),
    );
    expect(err.kind).toBe("parse");
    expect(err.message).toMatch(/^malformed JSON/);
  });

  it("turns a network failure into kind network and an abort into kind timeout", async () => {
    const refused = await failure(
      contextAnswering(() => {
        throw new TypeError("connection refused");
      }),
    );
    expect(refused.kind).toBe("network");

    const controller = new AbortController();
    const ctx: SourceContext = {
      ...contextAnswering(() => Response.json({})),
      signal: controller.signal,
      fetch: ((_input: RequestInfo | URL, init?: RequestInit) =>
        new Promise<Response>((_, reject) =>
          init?.signal?.addEventListener("abort", () => reject(init.signal!.reason)),
        )) as typeof fetch,
    };
    const pending = getJson("http://kraken.test/x", ctx);
    controller.abort(new DOMException("budget", "TimeoutError"));
    await expect(pending).rejects.toMatchObject({ kind: "timeout" });
  });
});

import { describe, expect, it } from "vitest";
import { isRetryable, parseRetryAfterMs, SourceError, toSourceError } from "../../src/sources/errors";

describe("parseRetryAfterMs", () => {
  const now = Date.UTC(2026, 10, 24, 20, 0, 0);

  it("reads delta-seconds", () => {
    expect(parseRetryAfterMs("30", now)).toBe(30_000);
    expect(parseRetryAfterMs(" 0 ", now)).toBe(0);
  });

  it("reads an HTTP date relative to now, never negative", () => {
    expect(parseRetryAfterMs("Tue, 24 Nov 2026 20:01:30 GMT", now)).toBe(90_000);
    expect(parseRetryAfterMs("Tue, 24 Nov 2026 19:00:00 GMT", now)).toBe(0);
  });

  it("ignores a missing or unreadable header", () => {
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
    expect(parseRetryAfterMs("soon", now)).toBeUndefined();
    expect(parseRetryAfterMs("-5", now)).toBeUndefined();
  });
});

describe("toSourceError", () => {
  it("keeps a SourceError as it is", () => {
    const err = new SourceError("parse", "bad");
    expect(toSourceError(err)).toBe(err);
  });

  it("calls anything thrown after the signal aborted a timeout", () => {
    const controller = new AbortController();
    controller.abort();
    expect(toSourceError(new TypeError("cancelled"), controller.signal).kind).toBe("timeout");
    expect(toSourceError(new DOMException("x", "TimeoutError")).kind).toBe("timeout");
  });

  it("calls a thrown TypeError a network failure", () => {
    const err = toSourceError(new TypeError("fetch failed: connect ECONNREFUSED"));
    expect(err.kind).toBe("network");
    expect(err.message).toContain("ECONNREFUSED");
  });

  it("keeps messages short and on one line", () => {
    const err = new SourceError("parse", `line one\nline two ${"x".repeat(500)}`);
    expect(err.message.length).toBeLessThanOrEqual(160);
    expect(err.message).not.toContain("\n");
  });
});

describe("isRetryable", () => {
  it("retries network failures, 5xx and 408", () => {
    expect(isRetryable(new SourceError("network", "reset"))).toBe(true);
    expect(isRetryable(new SourceError("http", "HTTP 502", { status: 502 }))).toBe(true);
    expect(isRetryable(new SourceError("http", "HTTP 408", { status: 408 }))).toBe(true);
  });

  it("does not retry what the next attempt would repeat or what asks us to wait", () => {
    expect(isRetryable(new SourceError("http", "HTTP 401", { status: 401 }))).toBe(false);
    expect(isRetryable(new SourceError("rate_limited", "HTTP 429", { status: 429 }))).toBe(false);
    expect(isRetryable(new SourceError("http", "HTTP 503", { status: 503, retryAfterMs: 1000 }))).toBe(false);
    expect(isRetryable(new SourceError("parse", "bad JSON"))).toBe(false);
    expect(isRetryable(new SourceError("upstream", "EQuery"))).toBe(false);
    expect(isRetryable(new SourceError("timeout", "budget spent"))).toBe(false);
  });
});

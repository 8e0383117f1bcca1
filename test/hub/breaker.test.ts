import { describe, expect, it } from "vitest";
import {
  breakerPhase,
  closedBreaker,
  cooldownMs,
  DEFAULT_BREAKER_OPTIONS,
  minIntervalElapsed,
  recordFailure,
  recordSuccess,
  requestDecision,
  type BreakerState,
} from "../../src/hub/breaker";

const T0 = 1_800_000_000_000;
const failure = { kind: "http" };

describe("circuit breaker", () => {
  it("stays closed for two failures and opens at the third", () => {
    let b = closedBreaker();
    b = recordFailure(b, T0, failure);
    b = recordFailure(b, T0 + 5000, failure);
    expect(breakerPhase(b, T0 + 5000)).toBe("closed");
    expect(b.consecutiveFailures).toBe(2);
    b = recordFailure(b, T0 + 10_000, failure);
    expect(b).toEqual({
      consecutiveFailures: 3,
      trips: 1,
      retryAtMs: T0 + 10_000 + DEFAULT_BREAKER_OPTIONS.baseCooldownMs,
    });
    expect(breakerPhase(b, T0 + 10_001)).toBe("open");
  });

  it("goes half-open when the cooldown has passed, reopens for longer when the probe fails, closes on success", () => {
    let b: BreakerState = { consecutiveFailures: 3, trips: 1, retryAtMs: T0 };
    expect(breakerPhase(b, T0 - 1)).toBe("open");
    expect(breakerPhase(b, T0)).toBe("half-open");
    b = recordFailure(b, T0, failure);
    expect(b).toEqual({ consecutiveFailures: 4, trips: 2, retryAtMs: T0 + 2 * DEFAULT_BREAKER_OPTIONS.baseCooldownMs });
    expect(breakerPhase(b, T0 + 1)).toBe("open");
    b = recordSuccess();
    expect(b).toEqual(closedBreaker());
    expect(breakerPhase(b, T0)).toBe("closed");
  });

  it("caps the cooldown backoff", () => {
    expect(cooldownMs(1)).toBe(15_000);
    expect(cooldownMs(3)).toBe(60_000);
    expect(cooldownMs(30)).toBe(DEFAULT_BREAKER_OPTIONS.maxCooldownMs);
  });

  it("opens at once on 429 and honours Retry-After", () => {
    const b = recordFailure(closedBreaker(), T0, { kind: "rate_limited", retryAfterMs: 45_000 });
    expect(b.retryAtMs).toBe(T0 + 45_000);
    expect(breakerPhase(b, T0 + 44_999)).toBe("open");
    expect(breakerPhase(b, T0 + 45_000)).toBe("half-open");
  });

  it("opens on a rate limit without Retry-After for the base cooldown, and caps a huge Retry-After", () => {
    expect(recordFailure(closedBreaker(), T0, { kind: "rate_limited" }).retryAtMs).toBe(T0 + 15_000);
    expect(recordFailure(closedBreaker(), T0, { kind: "rate_limited", retryAfterMs: 1e12 }).retryAtMs).toBe(
      T0 + DEFAULT_BREAKER_OPTIONS.maxRetryAfterMs,
    );
  });

  it("honours Retry-After on other statuses too (503)", () => {
    expect(recordFailure(closedBreaker(), T0, { kind: "http", retryAfterMs: 20_000 }).retryAtMs).toBe(T0 + 20_000);
  });

  it("is plain JSON", () => {
    const b = recordFailure(closedBreaker(), T0, { kind: "rate_limited", retryAfterMs: 1000 });
    expect(JSON.parse(JSON.stringify(b))).toEqual(b);
  });
});

describe("requestDecision", () => {
  it("asks a closed source whose minimum interval has passed", () => {
    expect(requestDecision(closedBreaker(), null, 1000, T0)).toBe("request");
    expect(requestDecision(closedBreaker(), T0 - 1000, 1000, T0)).toBe("request");
  });

  it("skips a source asked less than its minimum interval ago", () => {
    expect(requestDecision(closedBreaker(), T0 - 999, 1000, T0)).toBe("skip_min_interval");
    expect(minIntervalElapsed(T0 - 999, 1000, T0)).toBe(false);
  });

  it("skips an open breaker and probes a half-open one", () => {
    const open: BreakerState = { consecutiveFailures: 3, trips: 1, retryAtMs: T0 + 1 };
    expect(requestDecision(open, null, 0, T0)).toBe("skip_open");
    expect(requestDecision(open, null, 0, T0 + 1)).toBe("probe");
    expect(requestDecision(open, T0, 1000, T0 + 1)).toBe("skip_min_interval");
  });
});

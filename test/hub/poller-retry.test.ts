import { describe, expect, it } from "vitest";
import { backoffDelayMs, fitsInBudget, RETRY_POLICY } from "../../src/hub/retry";

describe("retry backoff", () => {
  it("doubles per retry, with jitter between half and all of the step", () => {
    expect(backoffDelayMs(1, () => 0, 0)).toBe(50);
    expect(backoffDelayMs(1, () => 1, 0)).toBe(100);
    expect(backoffDelayMs(2, () => 0, 0)).toBe(100);
    expect(backoffDelayMs(2, () => 1, 0)).toBe(200);
    expect(backoffDelayMs(3, () => 0.5, 0)).toBe(300);
  });

  it("is capped and never shorter than the source's minimum interval", () => {
    expect(backoffDelayMs(20, () => 1, 0)).toBe(RETRY_POLICY.maxDelayMs);
    expect(backoffDelayMs(1, () => 1, 1000)).toBe(1000);
  });

  it("survives a broken random source", () => {
    expect(backoffDelayMs(1, () => NaN, 0)).toBe(75);
  });

  it("only fits when the attempt itself still has time before the deadline", () => {
    expect(fitsInBudget(0, 100, 100 + RETRY_POLICY.minAttemptMs)).toBe(true);
    expect(fitsInBudget(0, 100, 99 + RETRY_POLICY.minAttemptMs)).toBe(false);
  });
});

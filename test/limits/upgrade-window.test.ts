import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { admitUpgrade } from "../../src/limits/upgrade-window";

const LIMIT = { limit: 3, periodMs: 60_000 };

/** Feeds upgrades at the given times through the window; true for each one admitted. */
function run(times: number[], limit = LIMIT) {
  let window: number[] = [];
  return times.map((atMs) => {
    const verdict = admitUpgrade(window, atMs, limit);
    window = verdict.window;
    return verdict;
  });
}

describe("admitUpgrade", () => {
  it("admits `limit` upgrades in a period, refuses the next until the oldest has left the period", () => {
    const verdicts = run([0, 1_000, 2_000, 3_000, 59_999, 60_000, 60_001]);
    expect(verdicts.map((v) => v.admitted)).toEqual([true, true, true, false, false, true, false]);
    // At 3 s the oldest (0 s) leaves the period at 60 s: 57 s from then.
    expect(verdicts[3]).toMatchObject({ admitted: false, retryAfterS: 57 });
    expect(verdicts[4]).toMatchObject({ admitted: false, retryAfterS: 1 });
  });

  it("never admits more than `limit` in any period, and a refusal's Retry-After is when the next would pass", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 5 }),
        (steps, limit) => {
          let at = 0;
          const times = steps.map((step) => (at += step));
          const period = { limit, periodMs: 10_000 };
          const verdicts = run(times, period);
          const admitted = times.filter((_, i) => verdicts[i]!.admitted);
          for (const t of admitted) {
            expect(admitted.filter((u) => u > t - period.periodMs && u <= t).length).toBeLessThanOrEqual(limit);
          }
          verdicts.forEach((v, i) => {
            if (v.admitted) return;
            const later = times[i]! + v.retryAfterS * 1000;
            const window = admitted.filter((u) => u <= times[i]!);
            expect(admitUpgrade(window, later, period).admitted).toBe(true);
          });
        },
      ),
    );
  });
});

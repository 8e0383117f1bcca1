import { describe, expect, it } from "vitest";
import { budgetSignal, untilAborted } from "../../src/hub/deadline";

describe("poll deadline", () => {
  it("aborts with a TimeoutError once the budget is spent", async () => {
    const budget = budgetSignal(5);
    await new Promise<void>((resolve) => budget.signal.addEventListener("abort", () => resolve()));
    expect(budget.signal.reason).toMatchObject({ name: "TimeoutError" });
    budget.dispose();
  });

  it("cancels whatever is still running when the poll is over", () => {
    const budget = budgetSignal(60_000);
    budget.dispose();
    expect(budget.signal.aborted).toBe(true);
    expect(budget.signal.reason).toMatchObject({ name: "AbortError" });
  });

  it("settles work that ignores the signal as soon as the signal aborts", async () => {
    const controller = new AbortController();
    const never = new Promise<string>(() => {});
    const pending = untilAborted(never, controller.signal);
    controller.abort(new DOMException("spent", "TimeoutError"));
    await expect(pending).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("passes the work's own result through", async () => {
    await expect(untilAborted(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
    await expect(untilAborted(Promise.reject(new Error("x")), new AbortController().signal)).rejects.toThrow("x");
  });
});

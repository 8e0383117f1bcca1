import { afterEach, describe, expect, it, vi } from "vitest";
import { PriceHub } from "../../src/hub/PriceHub";
import { randomIp } from "../support/feed";
import { fetchDocumented } from "../support/http";
import { publishTick } from "../support/hub";

let hostCount = 0;
const freshHost = () => `http://outage-${++hostCount}-${Math.random().toString(36).slice(2, 8)}.test`;
/** Checked against docs/openapi.yaml when its body is read. */
const getFrom = (base: string, path: string) =>
  fetchDocumented(new Request(`${base}${path}`, { headers: { "CF-Connecting-IP": randomIp() } }));

const PATHS = [
  ["/api/price", "snapshot"],
  ["/api/history?currency=USD", "historyPage"],
  ["/api/candles?currency=USD", "candlesPage"],
  ["/health", "health"],
] as const;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the HTTP reads while the hub fails", () => {
  it("answer 503 unavailable (never 500) for a key never fetched, and 200 once the hub is back", async () => {
    await publishTick();
    for (const [path, method] of PATHS) {
      const base = freshHost();
      const spy = vi.spyOn(PriceHub.prototype, method).mockRejectedValue(new Error("hub down"));
      const failed = await getFrom(base, path);
      expect(spy).toHaveBeenCalled();
      expect(failed.status).toBe(503);
      expect(Number(failed.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await failed.json()).toEqual({ error: { code: "unavailable", message: expect.any(String) } });
      spy.mockRestore();
      // Recovery: the next request past the isolate's back-off asks the hub again.
      let back = await getFrom(base, path);
      for (let i = 0; i < 100 && back.status === 503; i++) {
        await back.json();
        await new Promise((r) => setTimeout(r, 50));
        back = await getFrom(base, path);
      }
      expect(back.status).toBe(200);
      expect(back.headers.get("x-edge-cache")).toBe("hub");
      await back.arrayBuffer(); // the 200 bodies are other tests' subject
    }
  });
});

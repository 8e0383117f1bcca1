import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { expect } from "vitest";

/**
 * A random request to a random path, with random query parameters, with or without an upgrade,
 * from an address of its own: never 5xx.
 */
export function randomRequests() {
  const query = fc.array(
    fc.tuple(
      fc.constantFrom(
        "client_id",
        "currencies",
        "start_timedate",
        "last_seq",
        "currency",
        "interval",
        "from",
        "to",
        "after",
        "x",
      ),
      fc.string({ maxLength: 30 }),
    ),
    { maxLength: 5 },
  );
  return fc.asyncProperty(
    fc.constantFrom("/pricefeed", "/api/price", "/api/history", "/api/candles", "/health", "/home", "/nope"),
    query,
    fc.boolean(),
    async (path, params, upgrade) => {
      const qs = new URLSearchParams(params).toString();
      const headers = { "CF-Connecting-IP": `fuzz-${Math.random()}`, ...(upgrade ? { Upgrade: "websocket" } : {}) };
      const response = await exports.default.fetch(new Request(`http://feed.test${path}?${qs}`, { headers }));
      if (response.webSocket) {
        response.webSocket.accept();
        response.webSocket.close(1000, "fuzz");
      } else {
        await response.arrayBuffer();
      }
      expect(response.status).toBeLessThan(500);
    },
  );
}

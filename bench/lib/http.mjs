// Plain HTTP GETs from a chosen loopback source address: the Worker keys its per-IP limits on
// CF-Connecting-IP, which local workerd sets from the TCP peer, so each address is one "user".
import http from "node:http";

/**
 * GET `url` from `localAddress` on a connection of its own (no keep-alive: a new address needs a
 * new connection). Resolves with status, headers, body text and the time it took; never aborts
 * a request in flight (wrangler dev exits when a client drops one), only rejects on socket errors.
 */
export function getFrom(url, localAddress, headers = {}) {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { localAddress, agent: false, headers: { Connection: "close", ...headers } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          ms: performance.now() - t0,
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/**
 * Source addresses for the bench's own reads of /health: a small ring in 127.0.0.0/24, apart
 * from the clients' 127.1.0.1 upwards, so polling /health never meets the per-IP limit
 * (120 reads a minute) however often the bench asks.
 */
export class HealthAddresses {
  #next = 0;
  take() {
    return `127.0.0.${2 + (this.#next++ % 250)}`;
  }
}

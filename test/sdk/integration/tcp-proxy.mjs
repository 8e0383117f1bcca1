// A TCP proxy between a client and wrangler dev whose faults the test turns on: `hang` accepts
// connections and never forwards them (a server that takes the TCP connection and never answers
// the upgrade), `freeze` silently drops everything on the open connections without closing them
// (a dead path the client can only find with its heartbeat), `cut` resets them.
import { connect, createServer } from "node:net";

export async function startProxy(targetPort) {
  let mode = "forward";
  /** @type {Set<{ client: import("node:net").Socket, upstream: import("node:net").Socket | null, frozen: boolean }>} */
  const pairs = new Set();
  const server = createServer((client) => {
    const pair = { client, upstream: null, frozen: false };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on("error", drop);
    client.on("close", drop);
    if (mode === "hang") return;
    const upstream = connect(targetPort, "127.0.0.1");
    pair.upstream = upstream;
    upstream.on("error", drop);
    upstream.on("close", drop);
    client.on("data", (d) => pair.frozen || upstream.write(d));
    upstream.on("data", (d) => pair.frozen || client.write(d));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: server.address().port,
    /** New connections are held open and never forwarded while on. */
    hang(on) {
      mode = on ? "hang" : "forward";
    },
    freeze() {
      for (const pair of pairs) pair.frozen = true;
    },
    cut() {
      for (const pair of [...pairs]) {
        pair.client.resetAndDestroy?.() ?? pair.client.destroy();
        pair.upstream?.destroy();
      }
      pairs.clear();
    },
    get connections() {
      return pairs.size;
    },
    close() {
      this.cut();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

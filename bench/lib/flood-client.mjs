#!/usr/bin/env node
// The flood's HTTP clients, in a process of their own so that their work does not delay the
// WebSocket clients' receive timestamps in the bench process. Started by bench/flood.mjs:
//
//   node bench/lib/flood-client.mjs <baseUrl> <concurrency> <firstAddressBlock> <pathsJson>
//
// Runs `concurrency` closed-loop clients, each request on a new connection from the next
// loopback address (127.<block>.x.y upwards), cycling through the paths ("{random}" in a path is
// replaced per request). Stops when its stdin closes or says "stop", then prints one JSON line
// of statistics on stdout and exits.
import { AddressPool, summarize } from "./fleet.mjs";
import { getFrom } from "./http.mjs";

const [baseUrl, concurrencyArg, blockArg, pathsJson] = process.argv.slice(2);
const paths = JSON.parse(pathsJson);
const addresses = new AddressPool(Number(blockArg));
const stats = { requests: 0, errors: 0, status: {}, source: {}, byPath: {}, bytes: 0, errorKinds: {} };
const ms = [];
const startedAt = Date.now();
let stopping = false;

async function client(w) {
  for (let i = w; !stopping; i++) {
    const template = paths[i % paths.length];
    const path = template.replace("{random}", Math.random().toString(36).slice(2));
    try {
      const r = await getFrom(`${baseUrl}${path}`, addresses.take());
      stats.requests++;
      stats.status[r.status] = (stats.status[r.status] ?? 0) + 1;
      const source = r.headers["x-edge-cache"] ?? "none";
      stats.source[source] = (stats.source[source] ?? 0) + 1;
      stats.byPath[template] = (stats.byPath[template] ?? 0) + 1;
      stats.bytes += r.body.length;
      ms.push(r.ms);
    } catch (error) {
      stats.errors++;
      const kind = String(error.code ?? error.message).slice(0, 40);
      stats.errorKinds[kind] = (stats.errorKinds[kind] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const running = Promise.all(Array.from({ length: Number(concurrencyArg) }, (_, w) => client(w)));

function stop() {
  if (stopping) return;
  stopping = true;
  const stoppedAt = Date.now();
  running.then(() => {
    const seconds = (stoppedAt - startedAt) / 1000;
    process.stdout.write(
      `${JSON.stringify({
        ...stats,
        seconds,
        perSecond: Math.round((stats.requests / seconds) * 10) / 10,
        latencyMs: summarize(ms),
      })}\n`,
      () => process.exit(0),
    );
  });
}

process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  if (chunk.includes("stop")) stop();
});
process.stdin.on("end", stop);
process.on("SIGTERM", stop);

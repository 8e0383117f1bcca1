// The baseline a user might pick instead: one Node process, the `ws` package, polling the same
// simulated random walk in-process every INTERVAL ms and broadcasting each change to every
// socket, with the same frames as the Worker (welcome, snapshot, then price frames on change).
//
//   node bench/baseline-server.mjs --port 8080 [--interval 1000] [--volatility 0.0005]
//
// GET /health answers {"ok":true,...} once listening. Prints "listening <port>" on stdout.
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer } from "ws";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : (process.env[`BASELINE_${name.toUpperCase()}`] ?? fallback);
}
const PORT = Number(arg("port", "8080"));
const INTERVAL_MS = Number(arg("interval", "1000"));
const VOLATILITY = Number(arg("volatility", "0.0005"));
const HOST = arg("host", "127.0.0.1");

/**
 * The Worker's own random walk and rounding, bundled from src/ with esbuild so both servers
 * publish exactly the same prices.
 */
async function loadWalk() {
  const esbuild = await import("esbuild");
  const out = await esbuild.build({
    stdin: {
      contents:
        'export { simulatedUsdPrice, SIMULATED_FX_PER_USD } from "./src/sources/simulated.ts";\n' +
        'export { roundPrice } from "./src/hub/aggregate.ts";\n',
      resolveDir: root,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
    logLevel: "silent",
  });
  const code = out.outputFiles[0].text;
  const mod = await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
  return { ...mod, origin: "src/sources/simulated.ts (bundled)" };
}

const walk = await loadWalk();
const CURRENCIES = Object.keys(walk.SIMULATED_FX_PER_USD);

let seq = 0;
/** The latest tick: { seq, tsMs, prices, changed } */
let latest = null;
let polls = 0;
let lastBroadcastMs = null;

function priceFrame(tick, currencies) {
  const prices = {};
  for (const c of currencies) if (tick.prices[c] !== undefined) prices[c] = tick.prices[c];
  return JSON.stringify({
    type: "price",
    seq: tick.seq,
    ts: Math.floor(tick.tsMs / 1000),
    time: new Date(tick.tsMs).toISOString(),
    prices,
    sources: ["simulated"],
    replayed: false,
  });
}

function parseCurrencies(raw) {
  const list = (raw ?? "USD")
    .split(",")
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  const out = [...new Set(list)];
  if (out.length === 0 || out.some((c) => !CURRENCIES.includes(c))) return null;
  return out;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  if (url.pathname === "/health") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        ok: true,
        server: "baseline",
        walk: walk.origin,
        clients: wss.clients.size,
        polls,
        last_tick: latest ? { seq: latest.seq, time: new Date(latest.tsMs).toISOString() } : null,
        last_broadcast_ms: lastBroadcastMs,
      }),
    );
    return;
  }
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { code: "not_found", message: url.pathname } }));
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: true });

server.on("upgrade", (req, socket, head) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  const currencies = url.pathname === "/pricefeed" ? parseCurrencies(url.searchParams.get("currencies")) : null;
  if (!currencies) {
    socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.currencies = currencies;
    ws.currencyKey = currencies.join(",");
    ws.on("error", () => {});
    ws.on("message", (data) => {
      if (data.toString() === "ping") ws.send("pong");
    });
    const clientId = url.searchParams.get("client_id") ?? `anon-${Math.random().toString(36).slice(2)}`;
    ws.send(
      JSON.stringify({ type: "welcome", client_id: clientId, currencies, resumed: false, interval_ms: INTERVAL_MS }),
    );
    if (latest) ws.send(priceFrame(latest, currencies));
  });
});

function poll() {
  const now = Date.now();
  polls++;
  const usd = walk.simulatedUsdPrice(now, VOLATILITY);
  const prices = {};
  const changed = [];
  for (const c of CURRENCIES) {
    prices[c] = walk.roundPrice(c, usd * walk.SIMULATED_FX_PER_USD[c]);
    if (latest?.prices[c] !== prices[c]) changed.push(c);
  }
  if (changed.length === 0) return;
  latest = { seq: ++seq, tsMs: now, prices, changed };
  // One serialisation per distinct currency set, then a send per socket.
  const frames = new Map();
  const started = Date.now();
  for (const ws of wss.clients) {
    if (ws.readyState !== 1) continue;
    if (!ws.currencies.some((c) => changed.includes(c))) continue;
    let frame = frames.get(ws.currencyKey);
    if (!frame) {
      frame = priceFrame(latest, ws.currencies);
      frames.set(ws.currencyKey, frame);
    }
    ws.send(frame);
  }
  lastBroadcastMs = Date.now() - started;
}

// Same cadence as the hub's alarm loop: the next poll INTERVAL_MS after this one started.
let nextAt = Date.now() + INTERVAL_MS;
function loop() {
  try {
    poll();
  } finally {
    nextAt = Math.max(nextAt + INTERVAL_MS, Date.now() + 1);
    setTimeout(loop, nextAt - Date.now());
  }
}
// The hub starts polling at its first subscriber; polling from the start is equivalent for the bench.
setTimeout(loop, INTERVAL_MS);

server.listen(PORT, HOST, () => {
  process.stdout.write(`listening ${server.address().port} (walk: ${walk.origin})\n`);
});

for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));

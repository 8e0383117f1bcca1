/**
 * Loopback stand-in for the four upstream price APIs, for `npm start` without internet and for
 * manual outage drills. Run with Node 22 (type stripping): `node scripts/fake-upstream.ts [--drift[=S]] [--price=USD]`.
 *
 *   COINBASE_API_URL=http://127.0.0.1:8790/coinbase   KRAKEN_API_URL=http://127.0.0.1:8790/kraken
 *   BITSTAMP_API_URL=http://127.0.0.1:8790/bitstamp   COINDESK_API_URL=http://127.0.0.1:8790/coindesk
 *
 *   curl -s localhost:8790/__control                                     # state
 *   curl -s -XPOST localhost:8790/__control -d '{"mode":{"kraken":"500"}}'  # break Kraken
 *   curl -s -XPOST localhost:8790/__control -d '{"price":70000,"mode":{"kraken":"ok"}}'
 */
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  applyControl,
  createFakeUpstreamState,
  FAULT_MODES,
  handleFakeUpstream,
  UPSTREAM_NAMES,
} from "../test/support/fake-upstream.ts";
import type { FakeUpstreamState } from "../test/support/fake-upstream.ts";

const HOST = "127.0.0.1";
const DEFAULT_PORT = 8790;
const DEFAULT_DRIFT_S = 5;
/** Largest relative move per drift step. */
const DRIFT_STEP = 0.001;
const MAX_CONTROL_BYTES = 16 * 1024;

interface Options {
  port: number;
  priceUsd: number | undefined;
  driftEveryS: number | null;
}

function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const options: Options = {
    port: Number(env.FAKE_UPSTREAM_PORT || DEFAULT_PORT),
    priceUsd: undefined,
    driftEveryS: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split("=", 2) as [string, string | undefined];
    const next = () => inline ?? (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--") ? argv[++i] : undefined);
    if (flag === "--drift") {
      options.driftEveryS = Number(next() ?? DEFAULT_DRIFT_S);
    } else if (flag === "--price") {
      options.priceUsd = Number(next());
    } else if (flag === "--port") {
      options.port = Number(next());
    } else if (flag === "--help" || flag === "-h") {
      console.log("usage: node scripts/fake-upstream.ts [--port N] [--price USD] [--drift [SECONDS]]");
      process.exit(0);
    } else {
      throw new Error(`unknown option ${flag}`);
    }
  }
  if (!Number.isInteger(options.port) || options.port <= 0 || options.port > 65535) throw new Error("bad port");
  if (options.priceUsd !== undefined && !(options.priceUsd > 0)) throw new Error("--price must be positive");
  if (options.driftEveryS !== null && !(options.driftEveryS > 0)) throw new Error("--drift must be positive");
  return options;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > MAX_CONTROL_BYTES) reject(new Error("control body too large"));
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(`${JSON.stringify(body, null, 2)}\n`);
}

async function handleControl(state: FakeUpstreamState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === "GET") return sendJson(res, 200, { ...state, faultModes: FAULT_MODES });
  if (req.method !== "POST") return sendJson(res, 405, { error: "GET or POST" });
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch (err) {
    return sendJson(res, 400, { error: `control body: ${err instanceof Error ? err.message : String(err)}` });
  }
  const error = applyControl(state, body);
  if (error) return sendJson(res, 400, { error });
  console.log(`[fake-upstream] control ${JSON.stringify(body)}`);
  return sendJson(res, 200, state);
}

function toRequest(req: IncomingMessage, port: number, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return new Request(`http://${HOST}:${port}${req.url ?? "/"}`, { method: req.method, headers, signal });
}

async function serveUpstream(state: FakeUpstreamState, req: IncomingMessage, res: ServerResponse, port: number) {
  const aborted = new AbortController();
  res.on("close", () => {
    if (!res.writableEnded) aborted.abort(new Error("client went away"));
  });
  let response: Response;
  try {
    response = await handleFakeUpstream(state, toRequest(req, port, aborted.signal), aborted.signal);
  } catch {
    // "refused" and "timeout" end here: drop the connection so the client sees a network error.
    if (!aborted.signal.aborted) req.socket.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(response.status, headers);
  res.end(await response.text());
}

function startDrift(state: FakeUpstreamState, everyS: number): void {
  setInterval(() => {
    const move = (Math.random() * 2 - 1) * DRIFT_STEP;
    state.priceUsd = Math.round(state.priceUsd * (1 + move) * 100) / 100;
  }, everyS * 1000).unref();
}

function main(): void {
  const options = parseOptions(process.argv.slice(2), process.env);
  const state = createFakeUpstreamState(options.priceUsd === undefined ? {} : { priceUsd: options.priceUsd });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", `http://${HOST}`).pathname;
    const work = path === "/__control" ? handleControl(state, req, res) : serveUpstream(state, req, res, options.port);
    work.catch((err: unknown) => {
      console.error("[fake-upstream]", err);
      if (!res.headersSent) sendJson(res, 500, { error: "fake upstream failed" });
      else res.destroy();
    });
  });
  server.listen(options.port, HOST, () => {
    console.log(`[fake-upstream] listening on http://${HOST}:${options.port} (price ${state.priceUsd} USD)`);
    for (const name of UPSTREAM_NAMES) {
      console.log(`  ${name.toUpperCase()}_API_URL=http://${HOST}:${options.port}/${name}`);
    }
    if (options.driftEveryS !== null) {
      console.log(`[fake-upstream] drifting the price every ${options.driftEveryS} s`);
      startDrift(state, options.driftEveryS);
    }
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main();

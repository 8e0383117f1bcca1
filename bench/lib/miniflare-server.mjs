#!/usr/bin/env node
// The Worker on local workerd with Durable Object storage in memory (`--storage memory`).
//
//   node bench/lib/miniflare-server.mjs --build <dir with index.js + wrangler.toml> --port P
//     --inspector-port I [--host 127.0.0.1] [--tmp DIR] [--var NAME:VALUE ...]
//
// `wrangler dev` always gives the user worker on-disk SQLite per Durable Object (three files
// each, opened when the object is created); it never passes `unsafeEphemeralDurableObjects`.
// This runs the same pre-built bundle through Miniflare (wrangler's own dependency, the same
// workerd binary) with the bindings wrangler itself derives from the snapshot wrangler.toml
// (`unstable_getMiniflareWorkerOptions`), the same --var overrides, and
// `durableObjectStorage = inMemory`. Prints one line `MINIFLARE_READY {"url":…}` when it serves.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "package.json"));
const wrangler = require("wrangler");
const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = require("miniflare");

function parseArgs(argv) {
  const out = { host: "127.0.0.1", vars: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === "--build") out.build = path.resolve(v);
    else if (a === "--port") out.port = Number(v);
    else if (a === "--inspector-port") out.inspectorPort = Number(v);
    else if (a === "--host") out.host = v;
    else if (a === "--tmp") out.tmp = path.resolve(v);
    else if (a === "--var") {
      const k = v.indexOf(":");
      if (k <= 0) throw new Error(`--var ${v}: expected NAME:VALUE`);
      out.vars[v.slice(0, k)] = v.slice(k + 1);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!out.build || !Number.isInteger(out.port)) throw new Error("--build and --port are required");
  return out;
}

const args = parseArgs(process.argv.slice(2));
const configPath = path.join(args.build, "wrangler.toml");
// wrangler's own reading and translation of the config: bindings (vars, Durable Objects with
// their SQLite flag, [[ratelimits]]), compatibility date and flags.
const config = wrangler.unstable_readConfig({ config: configPath });
const { workerOptions, main } = wrangler.unstable_getMiniflareWorkerOptions(config);
// Module rules only matter for bundling; Miniflare 5 rejects them for a pre-built script.
delete workerOptions.modulesRules;

// Miniflare 5 takes its own option shape; wrangler builds the v4 shape and converts it, as here.
const mf = new Miniflare(convertV4MiniflareOptions({
  host: args.host,
  port: args.port,
  inspectorPort: args.inspectorPort,
  // As wrangler dev's user worker: /cdn-cgi/handler/scheduled exists, crons never fire on
  // their own (the hub's alarm loop, started on its first request, is what ticks).
  unsafeTriggerHandlers: true,
  logRequests: false,
  // INFO shows the Worker's console output and Miniflare's "runtime crashed" warnings, which
  // the bench reads from this process's log, as it does wrangler's.
  log: new Log(LogLevel.INFO),
  // The Worker's console output (its JSON log lines), one line each, into this process's log.
  handleStructuredLogs: ({ level, message }) => (level === "error" || level === "warn" ? console.error : console.log)(message),
  // Nothing here persists; anything Miniflare still wants on disk goes under the run's tmp dir.
  ...(args.tmp ? { resourceTmpPath: args.tmp, resourcePersistencePath: path.join(args.tmp, "state") } : {}),
  workers: [
    {
      ...workerOptions,
      name: config.name,
      modules: true,
      scriptPath: main,
      bindings: { ...workerOptions.bindings, ...args.vars },
      // durableObjectStorage = inMemory: no SQLite files, no fsync, no file descriptors.
      unsafeEphemeralDurableObjects: true,
    },
  ],
}));

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(1), 3000);
  force.unref();
  try {
    await mf.dispose();
  } catch {
    /* exiting anyway */
  }
  process.exit(signal === "SIGTERM" ? 0 : 1);
}
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(sig, () => void stop(sig));

try {
  const url = await mf.ready;
  console.log(`MINIFLARE_READY ${JSON.stringify({ url: url.href, name: config.name, main, vars: args.vars })}`);
} catch (error) {
  console.error(error);
  process.exit(1);
}

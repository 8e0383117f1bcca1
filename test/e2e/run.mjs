#!/usr/bin/env node
// End-to-end tests of /home in a real browser: Debian's Chromium driven by playwright-core,
// against `wrangler dev` whose upstream APIs are a loopback fake the test moves.
//
//   node test/e2e/run.mjs                       all scenarios
//   node test/e2e/run.mjs --only=stale,reload    the first (set-up) scenario plus those whose name
//                                                contains one of these
//   E2E_KEEP=1 node test/e2e/run.mjs            keep the wrangler state directory
//   CHROMIUM=/path/to/chrome node test/e2e/run.mjs
//
// Writes test-results/home.png (desktop), home-phone.png and e2e-*.log; exits non-zero on any
// failure; always stops the processes it started (their whole process groups).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { PriceFeedClient } from "btc-pricefeed/client";
import { createProcesses, freePort, node22, sleep, startWrangler, waitFor } from "../support/processes.mjs";
import { scenarios } from "./scenarios.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const RESULTS = join(ROOT, "test-results");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];
const POLL_INTERVAL_MS = 1000;
const only = (process.argv.find((a) => a.startsWith("--only="))?.slice(7) ?? "").split(",").filter(Boolean);

function log(...args) {
  console.log(`[e2e ${new Date().toISOString().slice(11, 23)}]`, ...args);
}

const procs = createProcesses({ cwd: ROOT, logFile: (name) => join(RESULTS, `e2e-${name}.log`), log });

// ---- the fake upstream --------------------------------------------------------------------

async function startUpstream(port) {
  procs.start("upstream", node22(ROOT), [join(ROOT, "scripts/fake-upstream.ts"), "--port", String(port)], {
    PORT: String(port),
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor("the fake upstream", async () => (await fetch(`${base}/__control`)).ok, 15_000);
  log(`fake upstream (scripts/fake-upstream.ts) on ${base}`);
  return base;
}

async function controlUpstream(base, body) {
  const res = await fetch(`${base}/__control`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST /__control: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

// ---- wrangler dev -------------------------------------------------------------------------

function startFeedServer(upstream, port, persistDir) {
  const vars = {
    PRICE_SOURCES: "coinbase,kraken,bitstamp",
    COINBASE_API_URL: `${upstream}/coinbase`,
    KRAKEN_API_URL: `${upstream}/kraken`,
    BITSTAMP_API_URL: `${upstream}/bitstamp`,
    COINDESK_API_URL: `${upstream}/coindesk`,
    POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
    SOURCE_TIMEOUT_MS: "800",
    // Short, so that the quiet-market scenario hears heartbeats within a few seconds.
    HEARTBEAT_S: "3",
  };
  return startWrangler(procs, { root: ROOT, port, persistDir, vars, log });
}

// ---- a feed watcher -------------------------------------------------------------------------

/**
 * A client of /pricefeed through the client library (it reconnects and resumes across the
 * restart scenario) that keeps the latest tick: how the tests learn that the hub published a
 * price without polling /api/price (which is rate-limited per IP).
 */
function createWatcher(base) {
  let latest = null;
  const feed = new PriceFeedClient({
    url: `${base.replace(/^http/, "ws")}/pricefeed`,
    clientId: "e2e-watcher",
    currencies: ["USD", "EUR", "GBP"],
    backoff: { baseMs: 250, maxMs: 1000 },
  });
  feed.on("price", (tick) => {
    latest = tick;
  });
  feed.start();
  return {
    latest: () => latest,
    close: () => feed.close(),
  };
}

// ---- main ---------------------------------------------------------------------------------

async function main() {
  mkdirSync(RESULTS, { recursive: true });
  for (const f of readdirSync(RESULTS)) {
    if (/^e2e-|^home.*\.png$/.test(f)) rmSync(join(RESULTS, f), { force: true });
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM=/path/to/chrome)`);
  }

  log("building the page");
  const build = spawnSync(process.execPath, [join(ROOT, "scripts/build-page.mjs")], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0) throw new Error("scripts/build-page.mjs failed");

  const persistDir = mkdtempSync(join(tmpdir(), "btc-e2e-state-"));
  const upstream = await startUpstream(await freePort());
  // The scenarios start from this price (the first tick the hub publishes).
  await controlUpstream(upstream, { price: 97_000.5 });
  const port = await freePort();
  let base = await startFeedServer(upstream, port, persistDir);

  const server = {
    base: () => base,
    upstream,
    pollIntervalMs: POLL_INTERVAL_MS,
    control(body) {
      return controlUpstream(upstream, body);
    },
    /** The latest tick the watcher socket saw (USD, EUR, GBP). */
    async latest() {
      return watcher.latest();
    },
    /** Moves the upstream USD price (others follow) and waits until the hub has published it. */
    async movePrice(usd) {
      await this.control({ price: usd });
      return waitFor(
        `the hub to publish USD ${usd}`,
        async () => {
          const latest = watcher.latest();
          return latest && latest.prices.USD === usd ? latest : null;
        },
        20_000,
        50,
      );
    },
    /** Stops wrangler dev and starts it again on the same port and state. */
    async restart(downMs = 0) {
      await procs.stop("wrangler");
      if (downMs > 0) await sleep(downMs);
      base = await startFeedServer(upstream, port, persistDir);
    },
    tail: () => procs.tail("wrangler"),
    waitFor,
    sleep,
  };

  const watcher = createWatcher(base);
  await waitFor("the first published price", () => watcher.latest(), 30_000, 250);

  log(`launching ${CHROMIUM}`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
  const results = [];
  try {
    const selected = scenarios.filter((s) => s.critical || only.length === 0 || only.some((o) => s.name.includes(o)));
    const ctx = { browser, server, results: RESULTS, shared: {} };
    for (const scenario of selected) {
      const t0 = Date.now();
      try {
        await Promise.race([
          scenario.run(ctx),
          sleep(scenario.timeoutMs ?? 90_000).then(() => {
            throw new Error(`scenario timed out after ${scenario.timeoutMs ?? 90_000} ms`);
          }),
        ]);
        results.push({ name: scenario.name, ok: true, ms: Date.now() - t0 });
        log(`PASS ${scenario.name} (${Date.now() - t0} ms)`);
      } catch (err) {
        results.push({ name: scenario.name, ok: false, ms: Date.now() - t0, error: err });
        log(`FAIL ${scenario.name} (${Date.now() - t0} ms)\n${err?.stack ?? err}`);
        const page = ctx.shared.page;
        if (page && !page.isClosed()) {
          const shot = join(RESULTS, `e2e-failure-${scenario.name.replace(/\W+/g, "-")}.png`);
          await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
          log(`screenshot: ${shot}`);
        }
        log(`wrangler log tail:\n${server.tail()}`);
        if (scenario.critical) break;
      }
    }
    if (ctx.shared.finish) await ctx.shared.finish();
  } finally {
    watcher.close();
    await browser.close().catch(() => {});
    await procs.stopAll();
    if (process.env.E2E_KEEP === "1") log(`state kept in ${persistDir}`);
    else rmSync(persistDir, { recursive: true, force: true });
  }

  const failed = results.filter((r) => !r.ok);
  console.log("\nE2E results");
  for (const r of results) {
    const why = r.ok ? "" : `: ${String(r.error?.message ?? r.error).split("\n")[0]}`;
    console.log(`  ${r.ok ? "✓" : "✗"} ${r.name} (${(r.ms / 1000).toFixed(1)} s)${why}`);
  }
  console.log(`${results.length - failed.length}/${results.length} passed`);
  if (failed.length > 0 || results.length === 0) process.exitCode = 1;
}

main().catch(async (err) => {
  console.error(`[e2e] ${err?.stack ?? err}`);
  console.error(`wrangler log tail:\n${procs.tail("wrangler")}`);
  await procs.stopAll();
  process.exit(1);
});

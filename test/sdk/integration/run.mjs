#!/usr/bin/env node
// The client library and the `pricefeed` CLI against `wrangler dev` (simulated source, 1 s polls),
// as their users run them: the library imported by package name (btc-pricefeed/client, from the
// dist/ that `npm ci` built), through a dropped socket, a connect that hangs, a connection that
// dies silently, and a server restart (stop, start on the same --persist-to); the CLI spawned with
// `npx pricefeed`, its output read. The guarantees are checked against the server's own history.
//
//   node test/sdk/integration/run.mjs        (npm run test:sdk)
//   SDK_KEEP=1 ...                           keep the wrangler state directory
//   SDK_ONLY=<substring> ...                 run only the scenarios whose name contains it
//
// Logs go to test-results/sdk-*.log. Exits non-zero on any failure; always stops what it started.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createProcesses, freePort, sleep, startWrangler, waitFor } from "../../support/processes.mjs";
import { openEventStream } from "./event-stream.mjs";
import { startProxy } from "./tcp-proxy.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const RESULTS = join(ROOT, "test-results");
const POLL_INTERVAL_MS = 1000;

function log(...args) {
  console.log(`[sdk ${new Date().toISOString().slice(11, 23)}]`, ...args);
}

const procs = createProcesses({ cwd: ROOT, logFile: (name) => join(RESULTS, `sdk-${name}.log`), log });

class Failure extends Error {}
function assert(ok, message) {
  if (!ok) throw new Failure(message);
}

// ---- the server -----------------------------------------------------------------------------

const server = {
  port: 0,
  persistDir: "",
  base: "",
  async start() {
    const vars = { PRICE_SOURCES: "simulated", POLL_INTERVAL_MS: String(POLL_INTERVAL_MS) };
    this.base = await startWrangler(procs, { root: ROOT, port: this.port, persistDir: this.persistDir, vars, log });
  },
  async restart(downMs) {
    log("restarting wrangler dev (stop, then start on the same --persist-to)");
    await procs.stop("wrangler");
    await sleep(downMs);
    await this.start();
  },
  get ws() {
    return `${this.base.replace(/^http/, "ws")}/pricefeed`;
  },
  async latestSeq() {
    const body = await (await fetch(`${this.base}/api/price`)).json();
    return body.seq;
  },
};

// ---- checking a run against the server's history --------------------------------------------

/**
 * The promises, for one client's events: `price` strictly increasing in seq; every seq from the
 * first price to the last one either fired, lies in a gap, or is a tick that moved none of the
 * client's currencies (per /api/history); every price is the server's.
 */
async function verify(name, rec, currencies) {
  const seqs = rec.prices.map((p) => p.seq);
  for (let i = 1; i < seqs.length; i++) assert(seqs[i] > seqs[i - 1], `${name}: seq ${seqs[i]} after ${seqs[i - 1]}`);
  assert(seqs.length > 0, `${name}: no price at all`);
  const first = rec.prices[0];
  const last = rec.prices.at(-1);
  const from = first.ts - 5;
  const to = Math.ceil(Date.now() / 1000);
  const truth = new Map();
  for (const c of currencies) {
    const series = new Map();
    // Paged: follow `next` to the end.
    for (let path = `/api/history?currency=${c}&from=${from}&to=${to}`; path; ) {
      const res = await fetch(`${server.base}${path}`);
      assert(res.ok, `GET ${path}: HTTP ${res.status}`);
      const body = await res.json();
      for (const p of body.points) series.set(p.seq, p.price);
      path = body.next ?? null;
    }
    truth.set(c, series);
  }
  const inGap = (s) => rec.gaps.some((g) => s >= g.fromSeq && s <= g.toSeq);
  const fired = new Map(rec.prices.map((p) => [p.seq, p]));
  let covered = 0;
  for (let s = first.seq + 1; s <= last.seq; s++) {
    if (fired.has(s) || inGap(s)) continue;
    const moved = currencies.filter((c) => {
      const series = truth.get(c);
      return series.has(s) && series.get(s) !== series.get(s - 1);
    });
    assert(moved.length === 0, `${name}: tick #${s} moved ${moved.join(",")} but neither fired nor lies in a gap`);
    covered++;
  }
  for (const p of rec.prices) {
    for (const c of currencies) {
      const expected = truth.get(c).get(p.seq);
      if (expected !== undefined)
        assert(p.prices[c] === expected, `${name}: #${p.seq} ${c} ${p.prices[c]}, the server has ${expected}`);
    }
  }
  return {
    prices: rec.prices.length,
    first: first.seq,
    last: last.seq,
    covered,
    gaps: rec.gaps.length,
    replayed: rec.prices.filter((p) => p.replayed).length,
  };
}

function record(feed) {
  const rec = { prices: [], gaps: [], reasons: [], states: [] };
  feed.on("price", (t) => rec.prices.push(t));
  feed.on("gap", (g) => rec.gaps.push(g));
  feed.on("state", (state, detail) => {
    rec.states.push(state);
    if (detail.reason) rec.reasons.push(detail.reason);
  });
  return rec;
}

const pricesAfter = (rec, seq) => rec.prices.filter((p) => p.seq > seq);

// ---- 1. the library ---------------------------------------------------------------------------

async function libraryScenario() {
  const { PriceFeedClient } = await import("btc-pricefeed/client");
  const proxy = await startProxy(server.port);
  // Through the proxy, with short timings, so that every fault shows within seconds.
  const a = new PriceFeedClient({
    url: `ws://127.0.0.1:${proxy.port}/pricefeed`,
    currencies: ["USD", "EUR"],
    connectTimeoutMs: 3000,
    heartbeatMs: 2000,
    heartbeatTimeoutMs: 2000,
    backoff: { baseMs: 200, maxMs: 2000 },
  });
  // Direct, with the defaults a user gets.
  const b = new PriceFeedClient({ url: server.ws, currencies: ["GBP"] });
  // Pings between the 1 s ticks, and dead if no pong within 0.4 s: stays up only if the runtime answers.
  const c = new PriceFeedClient({ url: server.ws, currencies: ["CHF"], heartbeatMs: 300, heartbeatTimeoutMs: 400 });
  const ra = record(a);
  const rb = record(b);
  const rc = record(c);
  a.start();
  b.start();
  c.start();
  try {
    await waitFor("both clients' first ticks", () => ra.prices.length >= 3 && rb.prices.length >= 3, 30_000);
    await waitFor("c: five ticks", () => rc.prices.length >= 5, 30_000);
    assert(
      rc.reasons.length === 0 && rc.states.filter((s) => s === "open").length === 1,
      `c: pings answered by pong, one connection throughout (reasons ${rc.reasons.join(",")})`,
    );
    c.close();

    log("a: the next attempts hang (TCP accepted, no answer), and the open socket is cut");
    proxy.hang(true);
    proxy.cut();
    await waitFor(
      "a: an attempt abandoned after connectTimeoutMs",
      () => ra.reasons.includes("connect_timeout"),
      15_000,
    );
    proxy.hang(false);
    let mark = a.lastSeq;
    await waitFor(
      "a: the missed ticks replayed, then live ones",
      () => pricesAfter(ra, mark).some((p) => p.replayed) && pricesAfter(ra, mark).some((p) => !p.replayed),
      30_000,
    );

    log("a: the open connection goes silent (no close, no data)");
    const before = ra.reasons.length;
    proxy.freeze();
    await waitFor(
      "a: the heartbeat finds it dead",
      () => ra.reasons.slice(before).includes("heartbeat_timeout"),
      15_000,
    );
    mark = a.lastSeq;
    await waitFor("a: back and caught up", () => pricesAfter(ra, mark).some((p) => !p.replayed), 30_000);

    const seqAtRestart = await server.latestSeq();
    await server.restart(2000);
    await waitFor(
      "both clients: ticks published after the restart",
      () => pricesAfter(ra, seqAtRestart + 3).length > 0 && pricesAfter(rb, seqAtRestart + 3).length > 0,
      90_000,
      500,
    );
    assert(rb.reasons.includes("closed"), `b: saw the restart (reasons ${rb.reasons.join(",")})`);
    assert(
      ra.prices.some((p) => p.replayed),
      "a: some ticks came as a replay",
    );

    const va = await verify("a", ra, ["USD", "EUR"]);
    const vb = await verify("b", rb, ["GBP"]);
    log(`a: ${JSON.stringify(va)}, reasons ${ra.reasons.join(",")}, duplicates dropped ${a.duplicatesDropped}`);
    log(`b: ${JSON.stringify(vb)}, reasons ${rb.reasons.join(",")}, duplicates dropped ${b.duplicatesDropped}`);
    // The history is kept for a day: nothing here may be lost.
    assert(
      va.gaps === 0 && vb.gaps === 0,
      `no gap expected (a ${JSON.stringify(ra.gaps)}, b ${JSON.stringify(rb.gaps)})`,
    );
  } finally {
    a.close();
    b.close();
    c.close();
    await proxy.close();
  }
}

// ---- 2. the CLI ----------------------------------------------------------------------------------

/** `npx pricefeed …` (or another command) with its output collected line by line. */
function spawnCli(args, { command = "npx", prefix = ["pricefeed"], env = {} } = {}) {
  const base = { ...process.env };
  // Colours are the CLI's own decision (a terminal or not) unless a test says otherwise.
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  const child = spawn(command, [...prefix, ...args], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const out = [];
  const err = [];
  let outBuf = "";
  let errBuf = "";
  child.stdout.on("data", (d) => {
    outBuf += d;
    const lines = outBuf.split("\n");
    outBuf = lines.pop();
    out.push(...lines);
  });
  child.stderr.on("data", (d) => {
    errBuf += d;
    const lines = errBuf.split("\n");
    errBuf = lines.pop();
    err.push(...lines);
  });
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    out,
    err,
    exited,
    /** Sends `signal` to the command itself (as Ctrl-C does to the foreground process group). */
    async stop(signal = "SIGINT", timeoutMs = 5000) {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // gone
      }
      const result = await Promise.race([exited, sleep(timeoutMs).then(() => null)]);
      if (!result) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // gone
        }
        throw new Failure(`the CLI did not exit within ${timeoutMs} ms of ${signal}`);
      }
      return result;
    },
  };
}

const TICK = /^(\d\d:\d\d:\d\d) {2}#(\d+)\s+(↺ )?\s*USD [\d,]+\.\d\d( [▲▼] [+-][\d,]+\.\d\d| =)?\s+EUR [\d,]+\.\d\d/;
const seqOf = (line) => Number(TICK.exec(line)?.[2]);

/** Runs `body`; on failure, adds what the CLI printed to the error. */
async function withOutput(run, body) {
  try {
    await body();
  } catch (err) {
    err.message += `\n--- stdout:\n${run.out.join("\n")}\n--- stderr:\n${run.err.join("\n")}`;
    await run.stop("SIGKILL").catch(() => {});
    throw err;
  }
}

async function cliScenario() {
  const stateFile = join(mkdtempSync(join(tmpdir(), "pricefeed-cli-")), "state.json");
  // The bin itself on Node 22, so that its own exit status can be read (npx exits by the signal).
  const run = spawnCli([server.ws, "--currencies", "USD,EUR", "--state", stateFile], {
    command: process.execPath,
    prefix: [join(ROOT, "bin/pricefeed.mjs")],
  });
  await withOutput(run, async () => {
    await waitFor("three tick lines", () => run.out.filter((l) => TICK.test(l)).length >= 3, 30_000);
    assert(
      run.out.every((l) => !l.includes("\u001b[")),
      "piped output has no colour codes",
    );
    assert(
      run.err.some((l) => l.startsWith("· connected as client ")),
      "stderr says who it is",
    );
    await server.restart(1000);
    await waitFor("ticks again after the restart", () => run.out.filter((l) => TICK.test(l)).length >= 6, 90_000, 500);
    assert(
      run.err.some((l) => /^· connection closed; retrying in \d+\.\d s$/.test(l)),
      "says it lost the connection",
    );
    const { code, signal } = await run.stop("SIGINT");
    assert(code === 130, `Ctrl-C: stops the feed and exits 130 as interrupted (got ${code ?? signal})`);
  });
  const seqs = run.out.filter((l) => TICK.test(l)).map(seqOf);
  for (let i = 1; i < seqs.length; i++) assert(seqs[i] > seqs[i - 1], `CLI seqs increase: ${seqs.join(",")}`);
  const lastSeq = seqs.at(-1);
  assert(
    run.err.at(-1) === `· stopped after #${lastSeq}`,
    `the last stderr line says where it stopped: ${run.err.at(-1)}`,
  );
  assert(
    JSON.parse(readFileSync(stateFile, "utf8"))["pricefeed.last_seq"] === String(lastSeq),
    "--state keeps last_seq",
  );

  // Started again with the same --state: the ticks published meanwhile come first, marked.
  await sleep(3000);
  const again = spawnCli([server.ws, "--currencies", "USD,EUR", "--state", stateFile]);
  await withOutput(again, async () => {
    await waitFor(
      "a replayed line, then a live one",
      () => again.out.some((l) => l.includes("(replayed)")) && again.out.some((l) => TICK.test(l) && !l.includes("↺")),
      30_000,
    );
    assert(
      again.err.some((l) => l.includes(`resuming after #${lastSeq}`)),
      `resumes after #${lastSeq}`,
    );
    const first = again.out.find((l) => TICK.test(l));
    assert(
      / ↺ .*\(replayed\)$/.test(first) && seqOf(first) === lastSeq + 1,
      `the first line is #${lastSeq + 1}, replayed: ${first}`,
    );
    // Ctrl-C through npx, as a user types it: npm and the CLI both get SIGINT.
    const { code, signal } = await again.stop("SIGINT");
    assert(code === 130 || signal === "SIGINT", `npx pricefeed ends on Ctrl-C (got ${code ?? signal})`);
    assert(again.err.at(-1)?.startsWith("· stopped after #"), "and the CLI said where it stopped");
  });
  log(
    `CLI: ${seqs.length} lines before, replayed from #${lastSeq + 1} after; ` +
      `sample:\n  ${again.out.slice(0, 4).join("\n  ")}`,
  );

  // --json and --from: one object per line, the replay since --from first.
  const fromS = Math.floor(Date.now() / 1000) - 4;
  const json = spawnCli([server.ws, "--currencies", "GBP", "--json", "--from", String(fromS)]);
  await withOutput(json, async () => {
    await waitFor(
      "JSON price events, replayed and live",
      () => json.out.some((l) => l.includes('"replayed":false')),
      30_000,
    );
    await json.stop("SIGINT");
  });
  const events = json.out.map((l) => JSON.parse(l));
  const prices = events.filter((e) => e.event === "price");
  assert(
    events[0].event === "state" && events[0].state === "connecting",
    `starts with state connecting: ${json.out[0]}`,
  );
  assert(
    events.some((e) => e.event === "welcome" && e.currencies.join() === "GBP"),
    "a welcome event",
  );
  assert(
    prices[0].replayed && prices[0].ts >= fromS && typeof prices[0].prices.GBP === "number",
    `replays since --from: ${JSON.stringify(prices[0])}`,
  );
  assert(
    json.err.length === 0 || json.err.every((l) => /EBADENGINE|^npm warn|^\s*$/.test(l)),
    `--json writes nothing else: ${json.err.join(" | ")}`,
  );

  // On a terminal: colours and arrows.
  if (spawnSync("script", ["--version"]).status === 0) {
    const tty = spawnCli(["-qfec", `npx pricefeed ${server.ws} --currencies USD`, "/dev/null"], {
      command: "script",
      prefix: [],
    });
    await withOutput(tty, async () => {
      await waitFor("two ticks on a terminal", () => tty.out.filter((l) => /#\d+/.test(l)).length >= 2, 30_000);
      await tty.stop("SIGINT").catch(() => {});
    });
    const ticks = tty.out.filter((l) => /#\d+/.test(l));
    assert(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's colour escape is what is checked
      ticks.slice(1).some((l) => /\u001b\[3[12]m[▲▼] /.test(l)),
      `coloured arrows on a terminal: ${JSON.stringify(ticks.slice(0, 2))}`,
    );
  } else {
    log("skipped the terminal check: no `script` command");
  }

  // Refusals: bad arguments, and a Node too old for the library.
  const bad = spawnCli(["--currencies", "XYZ"]);
  const badExit = await bad.exited;
  assert(
    badExit.code === 2 && bad.err.some((l) => l.includes('unsupported currency "XYZ"')),
    `bad currency: exit ${badExit.code}, ${bad.err.join(" | ")}`,
  );
  const oldNode = ["/usr/bin/node", "/usr/local/bin/node"].find((p) => {
    const v = spawnSync(p, ["-p", "process.versions.node"], { encoding: "utf8" });
    return v.status === 0 && Number(v.stdout.split(".")[0]) < 22;
  });
  if (oldNode) {
    const old = spawnCli([], { command: oldNode, prefix: [join(ROOT, "bin/pricefeed.mjs")] });
    const oldExit = await old.exited;
    assert(
      oldExit.code === 1 && old.err[0]?.startsWith("pricefeed needs Node.js 22 or later"),
      `old Node: exit ${oldExit.code}, ${old.err.join(" | ")}`,
    );
  } else {
    log("skipped the old-Node check: no Node < 22 on this machine");
  }
}

// ---- 3. the event stream ------------------------------------------------------------------------

/**
 * GET /pricefeed as Server-Sent Events, resumed the way an EventSource resumes: the same URL (its
 * query last_seq stale) with Last-Event-ID. After a drop within a run: every missed price, no repeat.
 * After a restart: nothing missed, and nothing older than the last id the stream had sent.
 */
async function eventStreamScenario() {
  // last_seq=1 is the stale query an EventSource keeps in its URL: Last-Event-ID must win.
  const url = `${server.base}/pricefeed?client_id=sdk-sse&currencies=USD&last_seq=1`;
  const rec = { prices: [], gaps: [] };
  const take = (stream, from) => {
    for (const p of stream.frames("price").slice(from)) rec.prices.push(p);
    for (const g of stream.frames("gap")) rec.gaps.push({ fromSeq: g.from_seq, toSeq: g.to_seq });
  };

  let stream = await openEventStream(url);
  assert(stream.status === 200, `the stream opens: HTTP ${stream.status}`);
  assert(/^text\/event-stream/.test(stream.headers.get("content-type") ?? ""), "Content-Type text/event-stream");
  await waitFor("three price events", () => stream.frames("price").length >= 3, 30_000, 100);
  const welcome = stream.frames("welcome")[0];
  assert(welcome, "a welcome event first");
  assert(stream.retry !== null, "retry: sent");
  stream.close();
  await sleep(50);
  take(stream, 0);
  let last = stream.events.filter((e) => e.id).at(-1).id;
  assert(last === `${welcome.epoch}:${rec.prices.at(-1).seq}`, `the last id names epoch and seq: ${last}`);

  // Dropped within a run: a few ticks go by, then the reconnect with Last-Event-ID.
  const dropped = await server.latestSeq();
  await waitFor("two ticks while the stream is down", async () => (await server.latestSeq()) >= dropped + 2, 20_000);
  stream = await openEventStream(url, { lastEventId: last });
  const beforeResume = rec.prices.at(-1).seq;
  await waitFor("a live price after the resume", () => stream.frames("price").some((p) => !p.replayed), 30_000, 100);
  stream.close();
  await sleep(50);
  const resumed = stream.frames("price");
  assert(
    resumed[0]?.seq > beforeResume,
    `no repeat after a drop: resumed at #${resumed[0]?.seq}, the stream had #${beforeResume}`,
  );
  assert(
    resumed.some((p) => p.replayed) || stream.frames("gap").length > 0,
    "the missed prices came replayed (or as a gap)",
  );
  take(stream, 0);
  last = stream.events.filter((e) => e.id).at(-1).id;
  const lastSeqBefore = Number(last.split(":")[1]);

  // Dropped by a restart (stop, start on the same --persist-to).
  await server.restart(1000);
  await waitFor("ticks again after the restart", async () => (await server.latestSeq()) > lastSeqBefore + 1, 90_000);
  stream = await openEventStream(url, { lastEventId: last });
  assert(stream.status === 200, `the stream opens after the restart: HTTP ${stream.status}`);
  await waitFor("a live price after the restart", () => stream.frames("price").some((p) => !p.replayed), 30_000, 100);
  stream.close();
  await sleep(50);
  const after = stream.frames("price");
  assert(
    after.every((p) => p.seq >= lastSeqBefore),
    `at least once by seq: nothing older than #${lastSeqBefore} (got ${after.map((p) => p.seq).join(",")})`,
  );
  // At least once across a restart: a price the stream had sent may come again; verify the rest.
  take({ frames: (type) => (type === "price" ? after.filter((p) => p.seq > lastSeqBefore) : stream.frames(type)) }, 0);
  const summary = await verify("event stream", rec, ["USD"]);
  log(`event stream: ${JSON.stringify(summary)}`);
}

// ---- main -------------------------------------------------------------------------------------

async function main() {
  if (Number(process.versions.node.split(".")[0]) < 22) {
    throw new Error(
      `Node ${process.version}: run this through npm (npm run test:sdk), which uses node_modules/.bin/node (22)`,
    );
  }
  mkdirSync(RESULTS, { recursive: true });
  for (const f of readdirSync(RESULTS)) if (/^sdk-/.test(f)) rmSync(join(RESULTS, f), { force: true });
  // `npm ci` runs `prepare`, which builds dist/: a fresh clone must have it.
  if (!existsSync(join(ROOT, "dist/client.js")) || !existsSync(join(ROOT, "dist/types/sdk/index.d.ts"))) {
    throw new Error("dist/ is missing: `npm ci` should have built it (the prepare script, scripts/build-sdk.mjs)");
  }
  // Rebuilt so that a working tree's edits are what runs.
  const build = spawnSync(process.execPath, [join(ROOT, "scripts/build-sdk.mjs")], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0) throw new Error("scripts/build-sdk.mjs failed");

  server.port = await freePort();
  server.persistDir = mkdtempSync(join(tmpdir(), "btc-sdk-state-"));
  const results = [];
  try {
    await server.start();
    for (const [name, fn] of [
      ["the library keeps its promises through a cut, a hung connect, a silent death and a restart", libraryScenario],
      ["the CLI prints ticks, resumes across a restart and its own, --json, --from, colours, refusals", cliScenario],
      [
        "the event stream resumes by Last-Event-ID after a drop (exactly) and a restart (at least once)",
        eventStreamScenario,
      ],
    ]) {
      if (process.env.SDK_ONLY && !name.includes(process.env.SDK_ONLY)) continue;
      const t0 = Date.now();
      try {
        await fn();
        results.push({ name, ok: true, ms: Date.now() - t0 });
        log(`PASS ${name}`);
      } catch (err) {
        results.push({ name, ok: false, ms: Date.now() - t0, error: err });
        log(`FAIL ${name}\n${err?.stack ?? err}\nwrangler log tail:\n${procs.tail("wrangler")}`);
        if (!procs.running("wrangler")) await server.start().catch(() => {});
      }
    }
  } finally {
    await procs.stopAll();
    if (process.env.SDK_KEEP === "1") log(`state kept in ${server.persistDir}`);
    else rmSync(server.persistDir, { recursive: true, force: true });
  }
  const failed = results.filter((r) => !r.ok);
  console.log("\nSDK integration results");
  for (const r of results) {
    const why = r.ok ? "" : `: ${String(r.error?.message ?? r.error).split("\n")[0]}`;
    console.log(`  ${r.ok ? "✓" : "✗"} ${r.name} (${(r.ms / 1000).toFixed(1)} s)${why}`);
  }
  console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
  if (failed.length > 0) process.exitCode = 1;
}

main().catch(async (err) => {
  console.error(`[sdk] ${err?.stack ?? err}`);
  await procs.stopAll();
  process.exit(1);
});

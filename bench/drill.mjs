#!/usr/bin/env node
// npm run drill [-- --clients 200 ...]: the restart drill.
//
// What a deploy does to every client, on this machine: wrangler dev (simulated source) with N
// clients, each its own client_id, half of them resuming plainly and half with last_seq (+ epoch);
// the server is stopped and started again on the same --persist-to folder, and every client
// (but the ghosts, which never come back) reconnects at once. Prints, per kind of client: ticks
// lost without a gap frame, ticks sent twice (and whether every repeat was marked replayed), ticks
// reported in gap frames, the time from the server being ready until every client is live again
// (its replay_end), where that time went, and the hub's subscriber count once CLIENT_TTL_S has
// passed (the ghosts purged). Not part of npm test: it reports, it asserts nothing about time.
//
// --quiet: the market holds still across the restart (a loopback upstream the drill moves, held from
// before the stop until every client is back), so no tick comes between the restart and a reconnect:
// a client resuming with last_seq is at the head, and its session, woken by that reconnect, must
// neither send it again what lies past its older durable mark nor show it an older price.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseOptions } from "../scripts/lib/args.mjs";
import { connectAll, DrillClient } from "./lib/drill-client.mjs";
import { AddressPool, summarize } from "./lib/fleet.mjs";
import { getFrom, HealthAddresses } from "./lib/http.mjs";
import { installCleanup, killAllGroupsSync, sleep } from "./lib/procs.mjs";
import { startProfile } from "./lib/profile.mjs";
import { buildWorker, startWorker } from "./lib/servers.mjs";
import { createStoragePlanner } from "./lib/storage.mjs";
import { startQuietUpstream } from "./lib/quiet-upstream.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const HELP = `npm run drill -- [options]
  --clients 200        clients (each its own client_id); half resume plainly, half with last_seq
  --ghosts 0.1         share of clients that never come back after the restart
  --plain 0.5          share of the returning clients that resume plainly (0: all with last_seq, as
                       the bench's storm and the client library do)
  --interval 1000      POLL_INTERVAL_MS
  --ttl 20             CLIENT_TTL_S (the drill waits this long, plus a margin, for the ghosts' purge)
  --settle 4           seconds of live ticks before the restart
  --down 2             seconds the server stays down
  --after 4            seconds of live ticks after the reconnect, before counting
  --storage auto       disk | tmpfs | auto (tmpfs when /dev/shm is writable; see bench/README.md)
  --quiet              a market that holds still from before the stop until every client is back
                       (a loopback upstream instead of the simulated source; see the top of this file)
  --profile            CPU-profile the Worker's isolate during the reconnect storm
  --profile-out FILE   also keep that profile (.cpuprofile: Chrome DevTools opens it)`;

const OPTIONS = {
  clients: { type: "string", default: "200" },
  ghosts: { type: "string", default: "0.1" },
  plain: { type: "string", default: "0.5" },
  interval: { type: "string", default: "1000" },
  ttl: { type: "string", default: "20" },
  settle: { type: "string", default: "4" },
  down: { type: "string", default: "2" },
  after: { type: "string", default: "4" },
  storage: { type: "string", default: "auto" },
  profile: { type: "boolean", default: false },
  quiet: { type: "boolean", default: false },
  "profile-out": { type: "string" },
};

function readArgs(argv) {
  const opts = parseOptions(argv, OPTIONS, { help: HELP });
  const numbers = {};
  for (const key of ["clients", "ghosts", "plain", "interval", "ttl", "settle", "down", "after"]) {
    numbers[key] = Number(opts[key]);
    if (!Number.isFinite(numbers[key]) || numbers[key] < 0) {
      console.error(`--${key} ${opts[key]}: expected a number\n${HELP}`);
      process.exit(2);
    }
  }
  const profileOut = opts["profile-out"] ? path.resolve(opts["profile-out"]) : null;
  return {
    ...numbers,
    storage: opts.storage,
    quiet: opts.quiet,
    profile: opts.profile || profileOut !== null,
    profileOut,
  };
}

const log = (msg) => console.error(`[drill ${new Date().toISOString().slice(11, 23)}] ${msg}`);

/** The seqs in which USD changed (the only ones a USD socket is sent), from the paged history. */
async function usdChanges(baseUrl, addresses, fromS) {
  const changed = [];
  let last = null;
  let url = `${baseUrl}/api/history?currency=USD&from=${fromS}&limit=2000`;
  while (url) {
    const res = await getFrom(url, addresses.take());
    if (res.status !== 200) throw new Error(`history: ${res.status} ${res.body}`);
    const body = JSON.parse(res.body);
    for (const point of body.points) {
      if (point.price !== last) changed.push(point.seq);
      last = point.price;
    }
    url = body.next ? `${baseUrl}${body.next}` : null;
  }
  return changed;
}

/** Lost (neither received nor in a gap), repeated, and gap-reported ticks of one client. */
function account(client, expected) {
  const first = client.connections[0].prices[0]?.seq;
  const got = new Map();
  let unmarkedRepeats = 0;
  for (const p of client.prices) {
    if (got.has(p.seq) && !p.replayed) unmarkedRepeats++;
    got.set(p.seq, (got.get(p.seq) ?? 0) + 1);
  }
  const gaps = client.connections.flatMap((c) => c.gaps);
  const inGap = (seq) => gaps.some(([from, to]) => from <= seq && seq <= to);
  const last = client.lastSeen;
  const due = expected.filter((seq) => first !== undefined && seq > first && seq <= last);
  return {
    lost: due.filter((seq) => !got.has(seq) && !inGap(seq)).length,
    repeated: [...got.values()].reduce((n, count) => n + count - 1, 0),
    unmarkedRepeats,
    gapReported: due.filter((seq) => !got.has(seq) && inGap(seq)).length,
  };
}

async function main() {
  const opts = readArgs(process.argv.slice(2));
  const runId = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const workDir = mkdtempSync(path.join(os.tmpdir(), `btc-drill-${runId}-`));
  const planner = createStoragePlanner({ runId, diskRoot: workDir, log });
  installCleanup(() => planner.cleanup());
  const storage = planner.resolve(opts.storage);
  log(`storage: ${storage.mode} (${storage.reason}); work dir ${workDir}`);
  const build = buildWorker({ root, outDir: path.join(workDir, "build"), log });
  const upstream = opts.quiet ? await startQuietUpstream({ root, workDir, intervalMs: opts.interval, log }) : null;
  const vars = { CLIENT_TTL_S: String(opts.ttl), ...upstream?.vars };
  const start = () =>
    startWorker({
      root,
      workDir,
      persistRoot: storage.persistRoot,
      label: "drill",
      vars,
      intervalMs: opts.interval,
      build,
      startTimeoutMs: 120_000,
      keepPersist: true,
      log,
    });

  const ghosts = Math.round(opts.clients * opts.ghosts);
  const plain = Math.round((opts.clients - ghosts) * Math.min(1, opts.plain));
  // Plain and last_seq clients interleave, so neither kind reconnects first.
  const kindOf = (i) =>
    i < ghosts
      ? "ghost"
      : Math.floor(((i - ghosts + 1) * plain) / (opts.clients - ghosts)) >
          Math.floor(((i - ghosts) * plain) / (opts.clients - ghosts))
        ? "plain"
        : "last_seq";
  const clients = Array.from({ length: opts.clients }, (_, i) => new DrillClient(i, runId, kindOf(i)));
  const addresses = new AddressPool(1);
  const healthAddresses = new HealthAddresses();

  let server = await start();
  const startedAtS = Math.floor(Date.now() / 1000) - 5;
  log(`connecting ${opts.clients} clients`);
  await connectAll(clients, server.baseUrl, addresses, () => ({ currencies: "USD" }));
  const notConnected = clients.filter((c) => !c.current.welcome).length;
  if (notConnected > 0) throw new Error(`${notConnected} clients could not connect the first time`);
  log(`all connected; ${opts.settle} s of live ticks`);
  await sleep(opts.settle * 1000);

  const headSeq = async () => {
    const res = await getFrom(`${server.baseUrl}/health`, healthAddresses.take());
    return JSON.parse(res.body).last_tick?.seq ?? null;
  };
  let quiet = null;
  if (upstream) {
    upstream.hold(true);
    // Two polls: the last move is published, and the price then holds.
    await sleep(2 * opts.interval + 500);
    quiet = { headBefore: await headSeq() };
    log(`market held at seq ${quiet.headBefore}`);
  }

  log("restart: stopping wrangler dev (no close event reaches the objects), same persist folder");
  const stoppedAt = Date.now();
  await server.stop({ keepPersist: true });
  await sleep(opts.down * 1000);
  server = await start();
  const readyAt = Date.now();
  log(
    `server ready ${((readyAt - stoppedAt) / 1000).toFixed(1)} s after the stop; ` +
      `${opts.clients - ghosts} clients reconnect at once`,
  );

  const profile = opts.profile ? await startProfile(server.inspectorPort) : null;
  const returning = clients.filter((c) => c.kind !== "ghost");
  await connectAll(returning, server.baseUrl, addresses, (c) =>
    c.kind === "plain" ? {} : { last_seq: String(c.lastSeen), epoch: c.epoch ?? "" },
  );
  const profileSummary = profile
    ? await profile.stop(opts.profileOut ?? path.join(workDir, "reconnect.cpuprofile"))
    : null;
  const conns = returning.map((c) => c.current);
  const failed = conns.filter((c) => c.liveAt === null);
  const since = (key) => conns.filter((c) => c[key] !== null).map((c) => c[key] - readyAt);
  const phases = {
    handshake: summarize(conns.filter((c) => c.openedAt).map((c) => c.openedAt - c.startedAt)),
    welcomeAfterOpen: summarize(conns.filter((c) => c.welcomeAt && c.openedAt).map((c) => c.welcomeAt - c.openedAt)),
    replayAfterWelcome: summarize(conns.filter((c) => c.liveAt && c.welcomeAt).map((c) => c.liveAt - c.welcomeAt)),
    liveFromReady: summarize(since("liveAt")),
  };
  log(`every client live again ${phases.liveFromReady.max} ms after the server was ready (${failed.length} failed)`);
  if (quiet) {
    // Still held for two more polls: a session that sent something late would show here.
    await sleep(2 * opts.interval);
    quiet.headAfter = await headSeq();
    const newestHeld = (c) => Math.max(0, ...c.current.prices.map((p) => p.seq));
    quiet.behindHead = returning.filter((c) => newestHeld(c) < quiet.headBefore).length;
    quiet.liveAfterRestart = returning.filter((c) => c.current.prices.some((p) => !p.replayed)).length;
    upstream.hold(false);
    log(`market moves again (head seq ${quiet.headAfter})`);
  }

  await sleep(opts.after * 1000);
  const expected = await usdChanges(server.baseUrl, healthAddresses, startedAtS);
  const byKind = {};
  for (const kind of ["plain", "last_seq"]) {
    const rows = clients.filter((c) => c.kind === kind).map((c) => account(c, expected));
    byKind[kind] = {
      clients: rows.length,
      lost: rows.reduce((n, r) => n + r.lost, 0),
      repeated: rows.reduce((n, r) => n + r.repeated, 0),
      unmarkedRepeats: rows.reduce((n, r) => n + r.unmarkedRepeats, 0),
      gapReported: rows.reduce((n, r) => n + r.gapReported, 0),
    };
  }

  const waitS = opts.ttl + 5;
  log(`waiting ${waitS} s (CLIENT_TTL_S + 5) for the ghosts' purge`);
  await sleep(waitS * 1000);
  const health = JSON.parse((await getFrom(`${server.baseUrl}/health`, healthAddresses.take())).body);
  for (const c of returning) c.current.ws?.close(1000, "drill done");
  await sleep(500);
  await server.stop();
  await upstream?.stop();
  planner.cleanup();
  rmSync(workDir, { recursive: true, force: true });

  const ms = (s) => `${s.p50} / ${s.p99} / ${s.max}`;
  console.log(
    `\n## Restart drill (${new Date().toISOString()}, ${opts.clients} clients, ` +
      `${storage.mode} storage, ${opts.interval} ms interval${quiet ? ", quiet market" : ""})\n`,
  );
  console.log(
    "| clients | resume with | lost (no gap) | sent again | repeats not marked replayed | reported in gaps |",
  );
  console.log("|---:|---|---:|---:|---:|---:|");
  for (const [kind, r] of Object.entries(byKind)) {
    console.log(
      `| ${r.clients} | ${kind === "plain" ? "plain reconnect" : "last_seq + epoch"} | ` +
        `${r.lost} | ${r.repeated} | ${r.unmarkedRepeats} | ${r.gapReported} |`,
    );
  }
  console.log(`| ${ghosts} | never come back (ghosts) | – | – | – | – |`);
  if (quiet) {
    const held =
      quiet.headAfter === quiet.headBefore
        ? "no tick in between, as intended"
        : "a tick came in between: the quiet path was not tested";
    console.log(
      `\nQuiet market: head seq ${quiet.headBefore} before the stop, ${quiet.headAfter} once every client was ` +
        `back (${held}). ` +
        `Returning clients not holding that newest price after their replay: ${quiet.behindHead} (expected 0); ` +
        `sent a price not marked replayed before the market moved again: ${quiet.liveAfterRestart} (expected 0).`,
    );
  }
  console.log("\n| reconnect storm (ms, p50 / p99 / max) | |");
  console.log("|---|---:|");
  console.log(`| server stopped → ready again | ${readyAt - stoppedAt} |`);
  console.log(`| ready → every client live again (replay_end) | ${ms(phases.liveFromReady)} |`);
  console.log(`| handshake (request → 101) | ${ms(phases.handshake)} |`);
  console.log(`| 101 → welcome (session wakes, reads its record) | ${ms(phases.welcomeAfterOpen)} |`);
  console.log(`| welcome → replay_end (the replay) | ${ms(phases.replayAfterWelcome)} |`);
  console.log(`| clients that did not get live again | ${failed.length} |`);
  console.log(
    `\nHub subscribers ${waitS} s after the reconnect: ${health.subscribers} ` +
      `(expected ${opts.clients - ghosts}: the ${ghosts} ghosts purged).`,
  );
  if (profileSummary) {
    console.log(
      `\nCPU during the reconnect storm (the Worker's isolate): ` +
        `busy ${profileSummary.busyMs} ms of ${profileSummary.wallMs} ms, GC ${profileSummary.gcMs} ms; inclusive:`,
    );
    const row = (f) => `  ${String(f.ms).padStart(8)} ms ${String(f.pct).padStart(5)} %  ${f.fn}`;
    for (const f of profileSummary.topInclusive.slice(0, 15)) console.log(row(f));
    console.log("self:");
    for (const f of profileSummary.topSelf.slice(0, 15)) console.log(row(f));
  }
}

main()
  .then(() => process.exit(0))
  .catch((error) => {
    console.error(error);
    killAllGroupsSync();
    process.exit(1);
  });

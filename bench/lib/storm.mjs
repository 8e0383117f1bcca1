// The reconnect storm, measured the same way for the feed and the floor: N clients connected and
// live, the server stopped and started again on the same persist folder (what a deploy does to the
// sockets), every client reconnecting at once with what it last saw (last_seq and epoch, as the
// client library does), and the time from the server being ready until each one has its first live
// price again. See bench/drill.mjs for the drill that also checks what was lost or repeated.
import { connectAll, DrillClient } from "./drill-client.mjs";
import { summarize } from "./fleet.mjs";
import { sleep } from "./procs.mjs";
import { startProfile } from "./profile.mjs";

/**
 * `start({ keepPersist })` starts the server (a fresh persist folder the first time, the same one
 * after). Returns the storm's numbers; stops the server before returning. `profileFile`: a CPU
 * profile of the Worker's isolate from ready until every client is live again is written there, and
 * its summary (busy, idle, the functions that took the time) comes with the numbers.
 */
export async function measureStorm({
  start,
  n,
  runId,
  addresses,
  concurrency = 64,
  settleMs = 3000,
  downMs = 1000,
  liveTimeoutMs = 120_000,
  profileFile = null,
  log,
}) {
  const clients = Array.from({ length: n }, (_, i) => new DrillClient(i, runId, "last_seq"));
  let server = await start({ keepPersist: false });
  try {
    const t0 = Date.now();
    await connectAll(clients, server.baseUrl, addresses, () => ({ currencies: "USD" }), {
      until: "live",
      concurrency,
      timeoutMs: liveTimeoutMs,
    });
    const notLive = clients.filter((c) => c.current.firstLiveAt === null).length;
    log(`  storm: ${n - notLive}/${n} live after ${((Date.now() - t0) / 1000).toFixed(1)} s; settling`);
    if (notLive === n) throw new Error("no client got a live price before the restart");
    await sleep(settleMs);

    const stoppedAt = Date.now();
    await server.stop({ keepPersist: true });
    await sleep(downMs);
    server = await start({ keepPersist: true });
    const readyAt = Date.now();
    log(`  storm: server ready ${((readyAt - stoppedAt) / 1000).toFixed(1)} s after the stop; ${n} reconnect at once`);
    const returning = clients.filter((c) => c.current.firstLiveAt !== null);
    const profile = profileFile ? await startProfile(server.inspectorPort) : null;
    const cpuAtReady = server.sample().cpuS;
    await connectAll(
      returning,
      server.baseUrl,
      addresses,
      (c) => ({ currencies: "USD", last_seq: String(c.lastSeen), ...(c.epoch ? { epoch: c.epoch } : {}) }),
      { until: "live", timeoutMs: liveTimeoutMs },
    );
    // The server's CPU (every workerd process) from ready until every client is live: near the storm's wall
    // time, the one thread was busy all along; far below it, the storm waited on something else.
    const serverCpuMs = Math.round((server.sample().cpuS - cpuAtReady) * 1000);
    const cpu = profile ? await profile.stop(profileFile) : null;
    const conns = returning.map((c) => c.current);
    const live = conns.filter((c) => c.firstLiveAt !== null);
    const liveFromReady = summarize(live.map((c) => c.firstLiveAt - readyAt));
    const result = {
      clients: returning.length,
      notLiveBeforeRestart: notLive,
      restartMs: readyAt - stoppedAt,
      /** Ready → every client's first live price again (max), and its spread. */
      liveFromReadyMs: liveFromReady,
      stormMs: live.length === conns.length ? liveFromReady.max : null,
      notLiveAgain: conns.length - live.length,
      errors: countBy(conns.map((c) => c.error).filter(Boolean)),
      serverCpuMs,
      handshakeMs: summarize(conns.filter((c) => c.openedAt).map((c) => c.openedAt - c.startedAt)),
      /**
       * Where the time went, each from ready: the 101, the welcome, the end of the replay, the publishing
       * of the tick that made the client live, and its arrival.
       */
      phasesFromReadyMs: Object.fromEntries(
        ["openedAt", "welcomeAt", "liveAt", "firstLivePublishedAt", "firstLiveAt"].map((key) => [
          key.replace(/At$/, ""),
          summarize(conns.filter((c) => c[key] !== null).map((c) => c[key] - readyAt)),
        ]),
      ),
      ...(cpu ? { cpu } : {}),
    };
    log(
      `  storm: every client live again ${result.stormMs ?? "–"} ms after ready` +
        ` (p50 ${liveFromReady.p50} ms; ${result.notLiveAgain} not live again)`,
    );
    for (const c of conns) c.ws?.close(1000, "storm done");
    await sleep(300);
    return result;
  } finally {
    await server.stop();
  }
}

function countBy(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

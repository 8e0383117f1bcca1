// A fleet of N clients of the client library (btc-pricefeed/client) in this process, on the `ws`
// package's sockets: paced connects, a per-tick record of every price event (seq, tick time,
// receive time), and the delivery/latency analysis. Reconnects and resumes are the library's.
import { PriceFeedClient } from "btc-pricefeed/client";
import WebSocket from "ws";

/**
 * Loopback source addresses, one per connection attempt. The Worker rate-limits upgrades per
 * client IP (UPGRADE_LIMITER, 30 a minute), as production does; N clients from one address
 * would be refused after 30. Linux routes all of 127.0.0.0/8 to lo, so every client gets its
 * own address, like N real users would. The baseline is given the same addresses.
 */
export class AddressPool {
  #next = 0;
  /** `firstBlock`: the second octet to start from (1: 127.1.0.1); pools started far apart do not meet. */
  constructor(firstBlock = 1) {
    this.firstBlock = firstBlock;
  }
  take() {
    // 127.<firstBlock>.0.1 upwards, skipping .0 and .255 in the last octet: 254 × 256 addresses per block.
    const n = this.#next++;
    const d = (n % 254) + 1;
    const c = Math.floor(n / 254) % 256;
    const b = 1 + ((this.firstBlock - 1 + Math.floor(n / (254 * 256))) % 254);
    return `127.${b}.${c}.${d}`;
  }
}

/**
 * The bench never aborts a handshake itself (wrangler dev exits when a client drops a request in
 * flight): the library's connect timeout is set beyond any run.
 */
const NEVER_MS = 2 ** 31 - 1;

export class Client {
  constructor(index, clientId) {
    this.index = index;
    this.clientId = clientId;
    /** @type {PriceFeedClient | null} */
    this.feed = null;
    /** Every socket the library opened for this client (closed at the end). */
    this.sockets = [];
    this.welcomeAt = null; // first welcome
    this.attempts = 0;
    this.error = null;
    /** Every price event: [seq, tickMs, recvMs, replayed(0/1)]. */
    this.prices = [];
    this.other = 0; // gap and status events
    this.gaps = 0;
    this.closedEarly = false;
    /** Had its welcome when the connect phase ended: only these are measured. */
    this.counted = false;
  }
}

/** Why an attempt failed, in the bench's words: http_429, error_ECONNRESET, closed_before_welcome, … */
function failureOf(socket) {
  const err = socket.benchError;
  if (!err) return "closed_before_welcome";
  const status = /Unexpected server response: (\d+)/.exec(err.message ?? "");
  return status ? `http_${status[1]}` : `error_${err.code ?? err.message}`.slice(0, 60);
}

/**
 * Opens `n` clients with at most `concurrency` handshakes in flight; a client counts as
 * connected when its welcome arrives. A client whose attempts fail `retries + 1` times in a row
 * (the library's backoff between them, a fresh address each) is closed and not measured; so is
 * one whose handshake is still pending when the phase times out (left alone, see NEVER_MS).
 */
export async function connectFleet({
  baseUrl,
  n,
  runId,
  concurrency,
  phaseTimeoutMs,
  retries,
  addresses,
  shouldStop = () => false,
  onProgress,
}) {
  const clients = Array.from({ length: n }, (_, i) => new Client(i, `bench-${runId}-${i}`));
  const failures = {};
  const started = Date.now();
  const phaseDeadline = started + phaseTimeoutMs;
  let nextIndex = 0;
  let connected = 0;
  let lastConnectAt = started;
  const handshakeMs = [];

  const connectOne = (client) =>
    new Promise((resolve) => {
      let t0 = Date.now();
      let settled = false;
      let socket = null;
      class PooledWebSocket extends WebSocket {
        constructor(url) {
          super(url, { localAddress: addresses.take(), perMessageDeflate: false, skipUTF8Validation: true });
          this.on("error", (err) => (this.benchError = err));
          client.sockets.push(this);
          client.attempts++;
          socket = this;
          t0 = Date.now();
        }
      }
      const feed = new PriceFeedClient({
        url: `${baseUrl}/pricefeed`,
        clientId: client.clientId,
        currencies: ["USD"],
        WebSocket: PooledWebSocket,
        connectTimeoutMs: NEVER_MS,
        backoff: { baseMs: 250, maxMs: 2000 },
      });
      client.feed = feed;
      const timer = setTimeout(() => done(false, "pending_at_phase_timeout"), Math.max(0, phaseDeadline - Date.now()));
      function done(ok, why) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (ok) handshakeMs.push(Date.now() - t0);
        else {
          failures[why] = (failures[why] ?? 0) + 1;
          client.error = why;
        }
        resolve(ok);
      }
      feed.on("price", (tick) =>
        client.prices.push([tick.seq, Date.parse(tick.time), Date.now(), tick.replayed ? 1 : 0]),
      );
      feed.on("gap", () => {
        client.other++;
        client.gaps++;
      });
      feed.on("status", () => client.other++);
      feed.on("state", (state, detail) => {
        if (state === "open") {
          client.welcomeAt ??= Date.now();
          done(true);
          return;
        }
        if (state !== "reconnecting" || detail.retryAt === null) return;
        if (client.welcomeAt !== null) {
          client.closedEarly = true;
          return;
        }
        const why = failureOf(socket);
        if (detail.attempt > retries || shouldStop() || Date.now() > phaseDeadline) {
          feed.close();
          done(false, why);
        } else {
          failures[why] = (failures[why] ?? 0) + 1;
        }
      });
      feed.start();
    });

  const worker = async () => {
    while (true) {
      if (Date.now() > phaseDeadline || shouldStop()) return;
      const i = nextIndex++;
      if (i >= n) return;
      if (await connectOne(clients[i])) {
        connected++;
        lastConnectAt = Date.now();
      }
    }
  };

  const progress = setInterval(() => onProgress?.({ connected, n, elapsedMs: Date.now() - started }), 2000);
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  } finally {
    clearInterval(progress);
  }
  for (const c of clients) c.counted = c.welcomeAt !== null;
  const notConnected = clients.filter((c) => !c.counted).length;
  return {
    clients,
    connected,
    notConnected,
    timedOut: Date.now() > phaseDeadline && notConnected > 0,
    connectMs: lastConnectAt - started,
    attempts: clients.reduce((s, c) => s + c.attempts, 0),
    failures,
    handshakeMs: summarize(handshakeMs),
  };
}

/** Closes every client (the library sends a close frame), then terminates whatever is left. */
export async function closeFleet(clients, timeoutMs) {
  const open = clients.flatMap((c) => c.sockets.filter((ws) => ws.readyState === WebSocket.OPEN));
  const closed = Promise.all(open.map((ws) => new Promise((resolve) => ws.once("close", resolve))));
  for (const c of clients) c.feed?.close();
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  for (const c of clients) {
    for (const ws of c.sockets) {
      try {
        ws.terminate();
      } catch {
        /* ignore */
      }
    }
  }
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  // Nearest-rank: the smallest value with at least p% of the samples at or below it.
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function summarize(values) {
  if (values.length === 0) return { n: 0, p50: null, p90: null, p99: null, max: null, min: null, mean: null };
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return {
    n: s.length,
    min: s[0],
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s[s.length - 1],
    mean: Math.round((sum / s.length) * 10) / 10,
  };
}

/** The live (non-replayed) ticks anybody has seen whose tick time is at or after `sinceMs`. */
export function liveSeqsSince(clients, sinceMs) {
  const seqs = new Set();
  for (const c of clients) {
    if (!c.counted) continue;
    for (const [seq, tickMs, , replayed] of c.prices) if (!replayed && tickMs >= sinceMs) seqs.add(seq);
  }
  return seqs;
}

/** How many (client, seq) pairs of `window` have arrived so far. */
export function deliveredCount(clients, window) {
  let n = 0;
  for (const c of clients) {
    if (!c.counted) continue;
    for (const [seq, , , replayed] of c.prices) if (!replayed && window.has(seq)) n++;
  }
  return n;
}

/**
 * The analysis of one measurement window (a set of seqs): latency over every tick of the
 * window received before `cutoffMs`, delivered vs expected, and per-client order checks over
 * all live ticks (snapshot included). The library already drops repeated seqs and reports holes
 * as gap events: `duplicates`/`outOfOrder` check that promise, `droppedByClient` and
 * `gapRanges` count what it dropped and reported.
 */
export function analyze(clients, window, cutoffMs) {
  const live = clients.filter((c) => c.counted);
  const latencies = [];
  const perTick = new Map([...window].map((s) => [s, { seq: s, tickMs: null, lat: [] }]));
  let delivered = 0;
  let late = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let gapEvents = 0;
  let missing = 0;
  let clientsMissing = 0;
  let clientsNotIncreasing = 0;
  let replayedFrames = 0;
  let snapshotFrames = 0;
  let droppedByClient = 0;
  let gapRanges = 0;
  let closedEarly = 0;
  for (const c of live) {
    if (c.closedEarly) closedEarly++;
    droppedByClient += c.feed?.duplicatesDropped ?? 0;
    gapRanges += c.gaps;
    const seen = new Set();
    let prev = null;
    let increasing = true;
    let first = true;
    for (const [seq, tickMs, recv, replayed] of c.prices) {
      if (replayed) {
        replayedFrames++;
        continue;
      }
      if (first) {
        first = false;
        if (!window.has(seq)) snapshotFrames++;
      }
      if (seen.has(seq)) duplicates++;
      if (prev !== null) {
        if (seq <= prev) {
          outOfOrder++;
          increasing = false;
        } else if (seq > prev + 1) gapEvents++;
      }
      prev = seq;
      if (window.has(seq) && !seen.has(seq)) {
        if (recv <= cutoffMs) {
          delivered++;
          const l = recv - tickMs;
          latencies.push(l);
          const t = perTick.get(seq);
          t.tickMs = tickMs;
          t.lat.push(l);
        } else late++;
      }
      seen.add(seq);
    }
    if (!increasing) clientsNotIncreasing++;
    let m = 0;
    for (const s of window) if (!seen.has(s)) m++;
    missing += m;
    if (m > 0) clientsMissing++;
  }
  const sorted = [...window].sort((a, b) => a - b);
  let holes = 0;
  for (let i = 1; i < sorted.length; i++) holes += sorted[i] - sorted[i - 1] - 1;
  const tickTimes = [...perTick.values()]
    .map((t) => t.tickMs)
    .filter((x) => x != null)
    .sort((a, b) => a - b);
  const spacing = tickTimes.slice(1).map((t, i) => t - tickTimes[i]);
  return {
    clients: live.length,
    ticks: window.size,
    /** Time between consecutive measured ticks: the hub's effective cadence under this load. */
    tickSpacingMs: summarize(spacing),
    seqRange: sorted.length ? [sorted[0], sorted[sorted.length - 1]] : null,
    seqsNobodySaw: holes,
    expected: window.size * live.length,
    delivered,
    late,
    missing,
    clientsMissing,
    duplicates,
    outOfOrder,
    gapEvents,
    droppedByClient,
    gapRanges,
    clientsNotIncreasing,
    replayedFrames,
    snapshotFrames,
    closedEarly,
    latencyMs: summarize(latencies),
    perTick: [...perTick.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((t) => ({
        seq: t.seq,
        time: t.tickMs ? new Date(t.tickMs).toISOString() : null,
        ...pick(summarize(t.lat)),
      })),
  };
}

const pick = ({ n, min, p50, p99, max }) => ({ n, min, p50, p99, max });

// A fleet of N WebSocket clients in this process: paced connects, a per-frame record of every
// price frame (seq, tick time, receive time), and the delivery/latency analysis.
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

export class Client {
  constructor(index, clientId) {
    this.index = index;
    this.clientId = clientId;
    this.ws = null;
    this.openedAt = null; // handshake done (101)
    this.welcomeAt = null; // welcome frame received
    this.attempts = 0;
    this.error = null;
    /** Every price frame: [seq, tickMs, recvMs, replayed(0/1)]. */
    this.prices = [];
    this.other = 0; // non-price frames after welcome (status, gap, ...)
    this.parseErrors = 0;
    this.closedEarly = false;
    /** Had its welcome when the connect phase ended: only these are measured. */
    this.counted = false;
  }
}

/**
 * Opens `n` clients with at most `concurrency` handshakes in flight; a client counts as
 * connected when its welcome frame arrives. Attempts the server refuses or drops are retried
 * (fresh address). The bench never aborts a handshake itself: wrangler dev exits when a client
 * drops a request in flight. A handshake still pending when the phase times out is left alone
 * and that client is not measured.
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

  const attempt = (client) =>
    new Promise((resolve) => {
      client.attempts++;
      const url = `${baseUrl}/pricefeed?client_id=${client.clientId}&currencies=USD`;
      const t0 = Date.now();
      let settled = false;
      const ws = new WebSocket(url, {
        localAddress: addresses.take(),
        perMessageDeflate: false,
        skipUTF8Validation: true,
      });
      client.ws = ws;
      const timer = setTimeout(() => done(false, "pending_at_phase_timeout", false), Math.max(0, phaseDeadline - Date.now()));
      function done(ok, why, retryable = true) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!ok) {
          failures[why] = (failures[why] ?? 0) + 1;
          client.error = why;
          client.retryable = retryable;
        } else {
          handshakeMs.push(Date.now() - t0);
        }
        resolve(ok);
      }
      ws.on("unexpected-response", (_req, res) => {
        done(false, `http_${res.statusCode}`);
      });
      ws.on("error", (err) => done(false, `error_${err.code ?? err.message}`.slice(0, 60)));
      ws.on("open", () => {
        client.openedAt = Date.now();
      });
      ws.on("close", () => {
        if (!settled) done(false, "closed_before_welcome");
        else if (client.welcomeAt) client.closedEarly = true;
      });
      ws.on("message", (data) => {
        const recv = Date.now();
        let msg;
        try {
          msg = JSON.parse(data.toString());
        } catch {
          client.parseErrors++;
          return;
        }
        if (msg.type === "price") {
          client.prices.push([msg.seq, Date.parse(msg.time), recv, msg.replayed ? 1 : 0]);
        } else if (msg.type === "welcome") {
          client.welcomeAt = recv;
          done(true);
        } else {
          client.other++;
        }
      });
    });

  const worker = async () => {
    while (true) {
      if (Date.now() > phaseDeadline || shouldStop()) return;
      const i = nextIndex++;
      if (i >= n) return;
      const client = clients[i];
      for (let r = 0; r <= retries; r++) {
        if (Date.now() > phaseDeadline || shouldStop()) break;
        client.error = null;
        if (await attempt(client)) {
          connected++;
          lastConnectAt = Date.now();
          break;
        }
        if (!client.retryable) break;
        await new Promise((res) => setTimeout(res, 250 * (r + 1)));
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

/** Closes every client: a graceful close frame, then terminate whatever is left. */
export async function closeFleet(clients, timeoutMs) {
  const open = clients.filter((c) => c.ws && c.ws.readyState === WebSocket.OPEN);
  await Promise.race([
    Promise.all(
      open.map(
        (c) =>
          new Promise((resolve) => {
            c.ws.once("close", resolve);
            try {
              c.ws.close(1000, "bench done");
            } catch {
              resolve();
            }
          }),
      ),
    ),
    new Promise((resolve) => setTimeout(resolve, timeoutMs)),
  ]);
  for (const c of clients) {
    try {
      c.ws?.terminate();
    } catch {
      /* ignore */
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
 * The analysis of one measurement window (a set of seqs): latency over every frame of the
 * window received before `cutoffMs`, delivered vs expected, and per-client order checks over
 * all live frames (snapshot included).
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
  let closedEarly = 0;
  for (const c of live) {
    if (c.closedEarly) closedEarly++;
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
  const tickTimes = [...perTick.values()].map((t) => t.tickMs).filter((x) => x != null).sort((a, b) => a - b);
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
    clientsNotIncreasing,
    replayedFrames,
    snapshotFrames,
    closedEarly,
    latencyMs: summarize(latencies),
    perTick: [...perTick.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((t) => ({ seq: t.seq, time: t.tickMs ? new Date(t.tickMs).toISOString() : null, ...pick(summarize(t.lat)) })),
  };
}

const pick = ({ n, min, p50, p99, max }) => ({ n, min, p50, p99, max });

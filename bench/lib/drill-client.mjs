// A client of the restart drill and the reconnect storm: plain `ws` sockets (not the client
// library), so what the server sends, repeats included, is seen as it is. Every frame of every
// connection is kept, with when the connection opened, got its welcome and went live.
import WebSocket from "ws";

/** One client: every frame of every connection, and how it resumes. */
export class DrillClient {
  constructor(index, runId, kind) {
    this.clientId = `drill-${runId}-${index}`;
    this.kind = kind; // "plain" | "last_seq" | "ghost"
    this.connections = [];
  }

  get current() {
    return this.connections.at(-1);
  }

  get prices() {
    return this.connections.flatMap((c) => c.prices);
  }

  get lastSeen() {
    return this.prices.reduce((max, p) => Math.max(max, p.seq), 0);
  }

  get epoch() {
    return this.connections.findLast((c) => c.welcome)?.welcome.epoch ?? null;
  }

  /**
   * Opens a socket. Resolves (with the connection) when it is live: with `until: "resumed"` when its
   * replay ended (or, on a first connect, its first price came); with `until: "live"` at its first
   * price that is not a replay. Also on an error or a close, and after `timeoutMs` if given.
   */
  open(baseUrl, address, query, { until = "resumed", timeoutMs } = {}) {
    const connection = {
      prices: [],
      gaps: [],
      welcome: null,
      startedAt: Date.now(),
      openedAt: null,
      welcomeAt: null,
      liveAt: null,
      /** The first price of this connection that is not a replay, and when its tick was published. */
      firstLiveAt: null,
      firstLivePublishedAt: null,
      closed: false,
      error: null,
    };
    this.connections.push(connection);
    const params = new URLSearchParams({ client_id: this.clientId, ...query });
    return new Promise((resolve) => {
      const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/pricefeed?${params}`, {
        localAddress: address,
        perMessageDeflate: false,
      });
      connection.ws = ws;
      const timer = timeoutMs ? setTimeout(() => done("timeout"), timeoutMs) : null;
      const done = (error) => {
        if (error) connection.error ??= error;
        if (timer) clearTimeout(timer);
        resolve(connection);
      };
      ws.on("open", () => (connection.openedAt = Date.now()));
      ws.on("unexpected-response", (_req, res) => {
        connection.error = `http_${res.statusCode}`;
        done();
      });
      ws.on("error", (err) => {
        connection.error ??= String(err.code ?? err.message);
        done();
      });
      ws.on("close", () => {
        connection.closed = true;
        done();
      });
      ws.on("message", (data) => {
        const msg = JSON.parse(data.toString());
        const now = Date.now();
        if (msg.type === "welcome") {
          connection.welcome = msg;
          connection.welcomeAt = now;
        } else if (msg.type === "price") {
          connection.prices.push({ seq: msg.seq, replayed: msg.replayed });
          if (!msg.replayed && connection.firstLiveAt === null) {
            connection.firstLiveAt = now;
            connection.firstLivePublishedAt = Date.parse(msg.time);
            if (until === "live") done();
          }
          if (!msg.replayed && !connection.welcome?.resumed && connection.liveAt === null) {
            connection.liveAt = now;
            if (until === "resumed") done();
          }
        } else if (msg.type === "replay_end") {
          connection.liveAt ??= now;
          if (until === "resumed") done();
        } else if (msg.type === "gap") {
          connection.gaps.push([msg.from_seq, msg.to_seq]);
        }
      });
    });
  }
}

/**
 * Opens one connection per client, `concurrency` at a time (all at once by default: a reconnect
 * storm); resolves when every one resolved (see DrillClient.open).
 */
export async function connectAll(
  clients,
  baseUrl,
  addresses,
  queryOf,
  { until = "resumed", concurrency = Infinity, timeoutMs } = {},
) {
  const queue = [...clients];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift())
      await c.open(baseUrl, addresses.take(), queryOf(c), { until, timeoutMs });
  };
  await Promise.all(Array.from({ length: Math.min(queue.length, concurrency) }, worker));
}

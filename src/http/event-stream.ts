/**
 * `/pricefeed` as Server-Sent Events. The Worker holds the stream and talks to the client's session over
 * a WebSocket, which the session accepts with the hibernation API like any other: the session stays
 * hibernatable between events (a stream held by the object itself would keep it billed for its whole
 * life), and the Worker is billed for its CPU time only.
 */
import { parseLastEventId, SSE_KEEP_ALIVE, sseEvent, sseOpening, type SseCursor } from "../protocol";

/** At least this often (ms) a quiet stream sends a comment, so that proxies keep it open. */
export const KEEP_ALIVE_MS = 15_000;

const STREAM_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
};

/**
 * The upgrade to forward to the session for an event-stream request: its URL with the resume point of
 * `Last-Event-ID` (an EventSource reconnects to the same URL, so its query's last_seq is stale).
 */
export function sessionUpgradeFor(request: Request): Request {
  const url = new URL(request.url);
  const resume = parseLastEventId(request.headers.get("Last-Event-ID"));
  if (resume) {
    url.searchParams.set("last_seq", String(resume.lastSeq));
    url.searchParams.set("epoch", resume.epoch);
    url.searchParams.delete("start_timedate");
  }
  const headers = new Headers(request.headers);
  headers.set("Upgrade", "websocket");
  headers.delete("Last-Event-ID");
  return new Request(url, { method: "GET", headers });
}

/**
 * Turns the session's answer into the event stream: a refusal (400, 429…) is passed on as it is; a 101's
 * socket is bridged, each frame one event, until either side ends.
 */
export function eventStreamFrom(session: Response, keepAliveMs = KEEP_ALIVE_MS): Response {
  const socket = session.webSocket;
  if (session.status !== 101 || !socket) return session;
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  bridge(socket, writable.getWriter(), keepAliveMs);
  return new Response(readable, { status: 200, headers: STREAM_HEADERS });
}

function bridge(socket: WebSocket, writer: WritableStreamDefaultWriter<Uint8Array>, keepAliveMs: number): void {
  const encoder = new TextEncoder();
  let cursor: SseCursor = { epoch: null };
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(keepAlive);
    try {
      socket.close(1000, "event stream closed");
    } catch {
      // already closed
    }
    writer.close().catch(() => {});
  };
  // A write that fails means the client went away: let go of the session's socket too.
  const write = (text: string) => {
    if (!ended) writer.write(encoder.encode(text)).catch(end);
  };
  const keepAlive = setInterval(() => write(SSE_KEEP_ALIVE), keepAliveMs);
  socket.accept();
  write(sseOpening());
  socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    const next = sseEvent(event.data, cursor);
    cursor = next.cursor;
    write(next.chunk);
  });
  socket.addEventListener("close", end);
  socket.addEventListener("error", end);
}

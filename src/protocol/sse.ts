/**
 * The /pricefeed frames as Server-Sent Events: each event is named after its frame's type and carries
 * the frame's JSON as its data, exactly as on the WebSocket. Events after which a client has accounted
 * for every seq up to one (price, gap, heartbeat) carry `id: <epoch>:<seq>`, so an EventSource that
 * reconnects sends the point to resume from as `Last-Event-ID`.
 */
import { EPOCH_PATTERN } from "./query";

/** How long (ms) an EventSource waits before it reconnects: the `retry:` the stream opens with. */
export const SSE_RETRY_MS = 1000;

export interface SseCursor {
  /** The epoch the seqs that follow belong to (from welcome, then reset); null before the welcome. */
  epoch: string | null;
}

export interface SseResumePoint {
  epoch: string;
  lastSeq: number;
}

function resumeSeq(frame: Record<string, unknown>): number | null {
  const seq =
    frame.type === "gap" ? frame.to_seq : frame.type === "price" || frame.type === "heartbeat" ? frame.seq : null;
  return typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 0 ? seq : null;
}

/**
 * One frame's text as an SSE event, and the cursor after it. A text that is not a JSON object with a
 * `type` (which the server does not send) goes out as a plain `message` event.
 */
export function sseEvent(text: string, cursor: SseCursor): { chunk: string; cursor: SseCursor } {
  let frame: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      frame = parsed as Record<string, unknown>;
  } catch {
    // not JSON
  }
  const type = typeof frame?.type === "string" && /^[a-z_]{1,32}$/.test(frame.type) ? frame.type : "message";
  const next =
    frame && (type === "welcome" || type === "reset") && typeof frame.epoch === "string"
      ? { epoch: frame.epoch }
      : cursor;
  const seq = frame ? resumeSeq(frame) : null;
  const id = seq !== null && next.epoch ? `id: ${next.epoch}:${seq}\n` : "";
  // A frame is one line of JSON; a line break in it would end the data field early.
  const data = text
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}\n`)
    .join("");
  return { chunk: `event: ${type}\n${id}${data}\n`, cursor: next };
}

/** The comment a stream sends while nothing else is due, so that proxies keep it open. */
export const SSE_KEEP_ALIVE = ": keep-alive\n\n";

/** The stream's first lines: how soon to reconnect. */
export const sseOpening = (retryMs = SSE_RETRY_MS) => `retry: ${retryMs}\n\n`;

/** `Last-Event-ID` as sent back by an EventSource: `<epoch>:<seq>`, or null for anything else. */
export function parseLastEventId(header: string | null): SseResumePoint | null {
  if (header === null) return null;
  const match = /^([^:]{1,64}):(\d{1,15})$/.exec(header.trim());
  if (!match || !EPOCH_PATTERN.test(match[1]!)) return null;
  return { epoch: match[1]!, lastSeq: Number(match[2]) };
}

/** Whether a request asks for the event stream (what EventSource sends: `Accept: text/event-stream`). */
export function wantsEventStream(accept: string | null): boolean {
  return accept !== null && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);
}

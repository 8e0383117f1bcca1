/** A Server-Sent Events client for pool tests: reads a /pricefeed event stream and parses its events. */
import { exports } from "cloudflare:workers";
import type { ServerMessage } from "../../src/protocol";
import { randomIp } from "./feed";
import { noteServerFrame } from "./api-docs";

export interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

export class SseStream {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry: number | null = null;
  ended = false;
  private buffer = "";
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private pumping: Promise<void> | null = null;

  constructor(readonly response: Response) {
    this.reader = response.body!.getReader();
  }

  /** The frames of the events, parsed, in order (each checked against docs/asyncapi.yaml). */
  frames(): ServerMessage[] {
    return this.events.map((e) => JSON.parse(e.data) as ServerMessage);
  }

  private async readOnce(): Promise<void> {
    const { value, done } = await this.reader.read();
    if (done) {
      this.ended = true;
      return;
    }
    this.buffer += this.decoder.decode(value, { stream: true });
    let cut = this.buffer.indexOf("\n\n");
    while (cut >= 0) {
      this.parse(this.buffer.slice(0, cut));
      this.buffer = this.buffer.slice(cut + 2);
      cut = this.buffer.indexOf("\n\n");
    }
  }

  private parse(block: string): void {
    const event: SseEvent = { event: "message", id: null, data: "" };
    const data: string[] = [];
    let fields = 0;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(":");
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      fields++;
      if (name === "event") event.event = value;
      else if (name === "id") event.id = value;
      else if (name === "data") data.push(value);
      else if (name === "retry") this.retry = Number(value);
    }
    if (data.length === 0) return;
    event.data = data.join("\n");
    if (fields > 0) {
      noteServerFrame(event.data);
      this.events.push(event);
    }
  }

  /** Reads until `done()` holds (a generous deadline, not a wall-clock assertion). */
  async until(done: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.ended) throw new Error(`stream ended; events: ${JSON.stringify(this.events)}`);
      if (Date.now() > deadline) throw new Error(`timed out; events: ${JSON.stringify(this.events)}`);
      this.pumping ??= this.readOnce().finally(() => {
        this.pumping = null;
      });
      await Promise.race([this.pumping, new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now())))]);
    }
  }

  async untilEvent(type: string, timeoutMs?: number): Promise<SseEvent> {
    await this.until(() => this.events.some((e) => e.event === type), timeoutMs);
    return this.events.find((e) => e.event === type)!;
  }

  /** Waits for the price event with this seq. */
  async untilSeq(seq: number, timeoutMs?: number): Promise<void> {
    await this.until(() => this.frames().some((f) => f.type === "price" && f.seq === seq), timeoutMs);
  }

  /** The client goes away (as a browser tab that closes or loses its network). */
  async drop(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}

export function sseRequest(query: string, headers: Record<string, string> = {}): Request {
  return new Request(`http://feed.test/pricefeed${query ? `?${query}` : ""}`, {
    headers: { Accept: "text/event-stream", "CF-Connecting-IP": randomIp(), ...headers },
  });
}

export async function openStream(query: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const response = await exports.default.fetch(sseRequest(query, headers));
  if (response.status !== 200) throw new Error(`expected 200, got ${response.status}: ${await response.text()}`);
  return new SseStream(response);
}

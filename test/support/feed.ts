import { exports } from "cloudflare:workers";
import type { ServerMessage } from "../../src/protocol";
import { noteServerFrame } from "./api-docs";

export type Frame = ServerMessage | { type: "pong" };

/**
 * A WebSocket client for tests: collects every frame and lets a test await the next ones. Every
 * frame is checked against docs/asyncapi.yaml; one that does not validate fails the test (setup.ts).
 */
export class FeedClient {
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | null = null;

  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener("message", (event) => {
      const text = typeof event.data === "string" ? event.data : "";
      noteServerFrame(text);
      this.frames.push(text === "pong" ? { type: "pong" } : JSON.parse(text));
      this.wake();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.wake();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until `count` frames have arrived in total (not a wall-clock assertion: a generous deadline). */
  async waitForFrames(count: number, timeoutMs = 5000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      if (this.closed)
        throw new Error(
          `socket closed (${this.closed.code}) after ${this.frames.length} frames: ${JSON.stringify(this.frames)}`,
        );
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`waited for ${count} frames, got ${this.frames.length}: ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames;
  }

  /** Waits for the first frame of a type after the ones already consumed by index. */
  async waitFor<T extends Frame["type"]>(type: T, timeoutMs = 5000): Promise<Extract<Frame, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find((f) => f.type === type);
      if (found) return found as Extract<Frame, { type: T }>;
      await this.waitForFrames(this.frames.length + 1, Math.max(1, deadline - Date.now()));
    }
  }

  /** Waits until a price frame with this seq has arrived. */
  async waitForSeq(seq: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.prices().some((p) => p.seq === seq)) {
      await this.waitForFrames(this.frames.length + 1, Math.max(1, deadline - Date.now()));
    }
  }

  async waitForClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("socket did not close");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.closed;
  }

  prices(): Extract<Frame, { type: "price" }>[] {
    return this.frames.filter((f): f is Extract<Frame, { type: "price" }> => f.type === "price");
  }

  send(data: unknown): void {
    this.ws.send(typeof data === "string" ? data : JSON.stringify(data));
  }

  close(): void {
    this.ws.close(1000, "bye");
  }
}

/** A different client address per call, so tests do not trip the per-IP upgrade limit unless they mean to. */
export const randomIp = () =>
  `10.${(Math.random() * 256) | 0}.${(Math.random() * 256) | 0}.${(Math.random() * 256) | 0}`;

export function feedRequest(query: string, headers: Record<string, string> = {}): Request {
  return new Request(`http://feed.test/pricefeed${query ? `?${query}` : ""}`, {
    headers: { Upgrade: "websocket", "CF-Connecting-IP": randomIp(), ...headers },
  });
}

export async function connect(query: string, headers: Record<string, string> = {}): Promise<FeedClient> {
  const response = await exports.default.fetch(feedRequest(query, headers));
  if (response.status !== 101 || !response.webSocket) {
    throw new Error(`expected 101, got ${response.status}: ${await response.text()}`);
  }
  return new FeedClient(response.webSocket);
}

/**
 * /pricefeed as Server-Sent Events: the same frames and promises as the WebSocket, resumed by
 * Last-Event-ID within a run and across a restart, with the session hibernatable between events.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { eventStreamFrom } from "../../src/http/event-stream";
import type { PriceMessage } from "../../src/protocol";
import { hub, publishTick, sessionStub, sleep } from "../support/hub";
import { withinOneLimiterWindow } from "../support/limiter-window";
import { openStream, sseRequest, SseStream } from "../support/sse";

const prices = (s: SseStream) => s.frames().filter((f): f is PriceMessage => f.type === "price");

describe("GET /pricefeed with Accept: text/event-stream", () => {
  it("streams welcome and the latest price, then each new price, as typed events with resume ids", async () => {
    const first = await publishTick();
    const stream = await openStream("client_id=sse-live&currencies=USD,EUR");
    expect(stream.response.headers.get("Content-Type")).toMatch(/^text\/event-stream/);
    expect(stream.response.headers.get("Cache-Control")).toContain("no-cache");
    await stream.untilSeq(first.seq);
    const epoch = await hub().epoch();
    expect(stream.retry).toBeGreaterThan(0);
    expect(stream.events[0]).toMatchObject({ event: "welcome", id: null });
    expect(JSON.parse(stream.events[0]!.data)).toMatchObject({ type: "welcome", client_id: "sse-live", epoch });
    expect(stream.events[1]).toMatchObject({ event: "price", id: `${epoch}:${first.seq}` });
    const next = await publishTick();
    await stream.untilSeq(next.seq);
    const last = stream.events.at(-1)!;
    expect(last).toMatchObject({ event: "price", id: `${epoch}:${next.seq}` });
    expect(JSON.parse(last.data)).toMatchObject({ type: "price", seq: next.seq, replayed: false });
    await stream.drop();
  });

  it("resumes exactly by Last-Event-ID after the stream drops: every missed price, no repeat", async () => {
    await publishTick();
    const stream = await openStream("client_id=sse-resume&currencies=USD");
    const seen = await publishTick();
    await stream.untilSeq(seen.seq);
    const lastId = stream.events.filter((e) => e.id !== null).at(-1)!.id!;
    await stream.drop();
    await sleep(50);
    const missed = [await publishTick(), await publishTick()];
    // An EventSource reconnects to the same URL (here with a stale last_seq) and sends Last-Event-ID.
    const again = await openStream("client_id=sse-resume&currencies=USD&last_seq=1", { "Last-Event-ID": lastId });
    await again.untilEvent("replay_end");
    expect(prices(again).map((p) => [p.seq, p.replayed])).toEqual(missed.map((t) => [t.seq, true]));
    const live = await publishTick();
    await again.untilSeq(live.seq);
    expect(prices(again).map((p) => p.seq)).toEqual([...missed.map((t) => t.seq), live.seq]);
    await again.drop();
  });

  it("resumes by Last-Event-ID across a restart of the session, at least once by seq", async () => {
    await publishTick();
    const stream = await openStream("client_id=sse-restart&currencies=USD");
    const seen = await publishTick();
    await stream.untilSeq(seen.seq);
    const lastId = stream.events.filter((e) => e.id !== null).at(-1)!.id!;
    await runInDurableObject(sessionStub("sse-restart"), () => {});
    await evictDurableObject(sessionStub("sse-restart"), { webSockets: "close" });
    await stream.until(() => stream.ended).catch(() => {});
    const missed = await publishTick();
    const again = await openStream("client_id=sse-restart&currencies=USD", { "Last-Event-ID": lastId });
    await again.untilSeq(missed.seq);
    const seqs = prices(again).map((p) => p.seq);
    expect(seqs.filter((s) => s <= seen.seq)).toEqual([]);
    expect(seqs).toContain(missed.seq);
    await again.drop();
  });

  it("keeps the session hibernatable: a hibernation socket, and events flow after it hibernated", async () => {
    await publishTick();
    const stream = await openStream("client_id=sse-hibernate&currencies=USD");
    await stream.untilEvent("price");
    const sockets = await runInDurableObject(sessionStub("sse-hibernate"), (_i, state) => state.getWebSockets().length);
    expect(sockets).toBe(1);
    await evictDurableObject(sessionStub("sse-hibernate"), { webSockets: "hibernate" });
    const tick = await publishTick();
    await stream.untilSeq(tick.seq);
    await stream.drop();
  });

  it("answers bad parameters with the WebSocket's 400 body, and a plain GET with 426", async () => {
    const bad = await exports.default.fetch(sseRequest("currencies=XYZ"));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "unsupported_currency" } });
    const plain = await exports.default.fetch(new Request("http://feed.test/pricefeed"));
    expect(plain.status).toBe(426);
    expect(await plain.json()).toMatchObject({ error: { code: "upgrade_required" } });
  });

  it("counts streams that name a client_id against its resume limit: the 21st in a minute gets 429 JSON", async () => {
    await publishTick();
    const statuses = await withinOneLimiterWindow(async (attempt) => {
      const query = `client_id=sse-limited-${attempt}&currencies=USD`;
      const seen: number[] = [];
      for (let i = 0; i < 21; i++) {
        const response = await exports.default.fetch(sseRequest(query));
        seen.push(response.status);
        if (response.status === 429) {
          expect(response.headers.get("Content-Type")).toMatch(/json/);
          expect(await response.json()).toMatchObject({ error: { code: "rate_limited" } });
        } else await response.body?.cancel();
      }
      return seen;
    });
    expect(statuses.slice(0, 20).filter((s) => s !== 200)).toEqual([]);
    expect(statuses[20]).toBe(429);
  }, 60_000);

  it("refuses a sixth stream of one client with an error event, then ends it", async () => {
    await publishTick();
    const five: SseStream[] = [];
    for (let i = 0; i < 5; i++) five.push(await openStream("client_id=sse-crowded"));
    for (const s of five) await s.untilEvent("price");
    const sixth = await openStream("client_id=sse-crowded");
    await sixth.until(() => sixth.ended);
    expect(sixth.frames()).toEqual([expect.objectContaining({ type: "error", code: "too_many_sockets" })]);
    expect(sixth.events[0]!.event).toBe("server_error");
    for (const s of five) await s.drop();
  });

  it("sends a keep-alive comment while nothing else is due", async () => {
    const pair = new WebSocketPair();
    const server = pair[1];
    server.accept();
    const response = eventStreamFrom(new Response(null, { status: 101, webSocket: pair[0] }), 20);
    const stream = new SseStream(response);
    await stream.until(() => stream.comments.filter((c) => c === "keep-alive").length >= 2);
    server.send(JSON.stringify({ type: "replay_end", count: 0 }));
    await stream.untilEvent("replay_end");
    server.close(1000, "bye");
    await stream.until(() => stream.ended);
  });
});

import { describe, expect, it } from "vitest";
import {
  CLIENT_ID_PATTERN,
  EPOCH_PATTERN,
  ERROR_CODES,
  PROTOCOL_VERSION,
  SUPPORTED_CURRENCIES,
  welcomeMessage,
} from "../../src/protocol";
import {
  asyncapi,
  documented,
  httpProblems,
  openapi,
  pointerOf,
  schemaProblems,
  serverFrameProblems,
  takeUndocumented,
  type Node,
} from "../support/api-docs";
import { FeedClient } from "../support/feed";

const schemasOf = (doc: typeof asyncapi): Record<string, Node> => doc.root.components.schemas;

describe("the documents and the protocol's constants", () => {
  it("list the same error codes, currencies, id patterns and protocol version as src/protocol", () => {
    for (const doc of [asyncapi, openapi]) {
      expect(schemasOf(doc).ErrorCode.enum, doc.name).toEqual([...ERROR_CODES]);
      expect(schemasOf(doc).Currency.enum, doc.name).toEqual([...SUPPORTED_CURRENCIES]);
    }
    expect(schemasOf(asyncapi).ClientId.pattern).toBe(CLIENT_ID_PATTERN.source);
    expect(schemasOf(asyncapi).Epoch.pattern).toBe(EPOCH_PATTERN.source);
    expect(schemasOf(asyncapi).PricefeedQuery.properties.epoch.pattern).toBe(EPOCH_PATTERN.source);
    const upgrade: Node[] = openapi.root.paths["/pricefeed"].get.parameters;
    const pattern = (name: string) => upgrade.find((p) => p.name === name)?.schema.pattern;
    expect([pattern("client_id"), pattern("epoch")]).toEqual([CLIENT_ID_PATTERN.source, EPOCH_PATTERN.source]);
    expect(asyncapi.root.info.version).toBe(PROTOCOL_VERSION);
  });

  it("describe what both have alike: the schemas of one name are the same in both documents", () => {
    const shared = Object.keys(schemasOf(asyncapi)).filter((name) => name in schemasOf(openapi));
    expect(shared).toEqual(expect.arrayContaining(["Currency", "ErrorCode", "Dispute", "Prices", "Seq"]));
    for (const name of shared) expect(schemasOf(openapi)[name], name).toEqual(schemasOf(asyncapi)[name]);
  });
});

describe("the documents' own examples", () => {
  it("every AsyncAPI message example is a valid payload", () => {
    let count = 0;
    for (const [key, message] of Object.entries<Node>(asyncapi.root.components.messages)) {
      for (const example of message.examples ?? []) {
        const payload = pointerOf("components", "messages", key, "payload");
        expect(schemaProblems(asyncapi, payload, example.payload), key).toEqual([]);
        count++;
      }
    }
    expect(count).toBeGreaterThanOrEqual(10);
  });

  it("every OpenAPI media-type example is a valid body", () => {
    const found: string[] = [];
    const walk = (node: Node, path: string[]) => {
      if (!node || typeof node !== "object") return;
      if (path.at(-2) === "content" && "example" in node && node.schema) {
        expect(schemaProblems(openapi, pointerOf(...path, "schema"), node.example), path.join(" ")).toEqual([]);
        found.push(path.join("/"));
      }
      for (const [k, v] of Object.entries<Node>(node)) walk(v, [...path, k]);
    };
    walk(openapi.root, []);
    expect(found.length).toBeGreaterThanOrEqual(6);
  });
});

describe("drift fails", () => {
  const welcome = welcomeMessage({
    client_id: "alice",
    currencies: ["USD"],
    resumed: false,
    interval_ms: 5000,
    heartbeat_s: 30,
    epoch: "e1",
  });
  const frame = (f: object) => serverFrameProblems(JSON.stringify(f));

  it("a frame with a wrong, missing, extra or misspelt field is refused, naming it", () => {
    expect(frame(welcome)).toEqual([]);
    expect(frame({ ...welcome, resumed: "no" }).join()).toContain("/resumed");
    expect(frame({ ...welcome, interval_ms: -1 }).join()).toContain("/interval_ms");
    expect(frame({ ...welcome, protocol: "one" }).join()).toContain("/protocol");
    const { client_id, ...missing } = welcome;
    expect(frame({ ...missing, clientId: client_id }).join()).toMatch(/client_id|clientId/);
    expect(frame({ ...welcome, heartbeat_ms: 15_000 }).join()).toContain("heartbeat_ms");
    expect(
      frame({ type: "price", seq: 0, ts: 1, time: "x", prices: { DOGE: 1 }, sources: [], replayed: false }),
    ).toHaveLength(3);
    expect(frame({ type: "status", state: "sleepy" }).join()).toContain('"status"');
    expect(frame({ type: "heartbeat" }).join()).toContain('"seq"');
    expect(frame({ type: "pulse", seq: 1 }).join()).toContain('has type "pulse"');
  });

  it("the shared test client fails the test of a frame the document does not describe", async () => {
    const { 0: client, 1: server } = new WebSocketPair();
    server.accept();
    const feed = new FeedClient(client);
    server.send(JSON.stringify(welcome));
    server.send(JSON.stringify({ ...welcome, resumed: "yes" }));
    await feed.waitForFrames(2);
    const undocumented = takeUndocumented(); // taken here, so that this test's afterEach passes
    expect(undocumented).toHaveLength(1);
    expect(undocumented[0]).toContain("/resumed");
    feed.close();
  });

  it("a test that reads an undocumented HTTP body fails", async () => {
    const request = new Request("http://feed.test/api/price");
    const body = JSON.stringify({ error: { code: "no_price_yet", message: "none" }, hint: "wait" });
    const headers = { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*" };
    const read = documented(request, new Response(body, { status: 404, headers }));
    await expect(read.json()).rejects.toThrow(/undocumented HTTP answer[\s\S]*hint/);
    const fine = documented(
      request,
      new Response(JSON.stringify({ error: { code: "no_price_yet", message: "none" } }), {
        status: 404,
        headers,
      }),
    );
    expect(await fine.json()).toMatchObject({ error: { code: "no_price_yet" } });
  });

  it("an HTTP answer with a wrong body, a missing header or an undocumented status is refused", () => {
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      httpProblems({
        method: "GET",
        path: "/api/price",
        status,
        headers: new Headers({
          "Content-Type": "application/json; charset=utf-8",
          "Access-Control-Allow-Origin": "*",
          ETag: '"abc"',
          "Cache-Control": "public, max-age=4",
          ...headers,
        }),
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    const price = {
      seq: 3,
      ts: 1,
      time: "2026-01-01T00:00:00.000Z",
      prices: { USD: 1 },
      sources: [],
      status: "live",
      stats_24h: {},
    };
    expect(answer(200, price)).toEqual([]);
    expect(answer(200, { ...price, bid: 0.5 }).join()).toContain("bid");
    expect(answer(200, { ...price, stats_24h: undefined }).join()).toContain("stats_24h");
    expect(answer(200, { ...price, status: undefined }).join()).toContain("status");
    const rateLimited = { error: { code: "rate_limited", message: "slow down" } };
    expect(answer(429, rateLimited, { "Retry-After": "60" })).toEqual([]);
    expect(answer(429, rateLimited).join()).toContain("Retry-After is missing");
    expect(answer(400, { error: { code: "too_slow", message: "x" } }).join()).toContain("/error/code");
    expect(answer(304, "")).toEqual([]);
    expect(answer(304, price).join()).toContain("a body where none is documented");
    expect(answer(200, price, { "Content-Type": "text/html" }).join()).toContain('"text/html"');
    const teapot = httpProblems({
      method: "OPTIONS",
      path: "/api/price",
      status: 418,
      headers: new Headers(),
      body: "",
    });
    expect(teapot.join()).toContain("status 418 is not documented");
  });
});

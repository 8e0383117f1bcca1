import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseClientFrame, parseServerFrame, type ServerMessage } from "../../src/protocol";
import { subscriptionDiff } from "../../src/sdk/subscription";
import {
  clientFrameProblems,
  messagesMatching,
  serverFrameProblems,
  serverMessages,
  clientMessages,
} from "../support/api-docs";
import { currency, currencySet, serverFrame, serverFrames } from "../support/frame-arbitraries";

describe("every frame the protocol's builders make", () => {
  it("is a server frame of docs/asyncapi.yaml", () => {
    fc.assert(
      fc.property(serverFrame, (frame) => {
        expect(serverFrameProblems(JSON.stringify(frame))).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it("reads back the same through parseServerFrame", () => {
    fc.assert(
      fc.property(serverFrame, (frame) => {
        expect(parseServerFrame(JSON.stringify(frame))).toEqual(frame);
      }),
      { numRuns: 500 },
    );
  });

  it("covers every JSON frame the document lists, and the document lists every kind the builders make", () => {
    const seen = new Set<string>();
    for (const arbitrary of Object.values<fc.Arbitrary<ServerMessage>>(serverFrames)) {
      for (const frame of fc.sample(arbitrary, 200)) {
        const matching = messagesMatching(serverMessages, frame);
        expect(
          matching.map((m) => m.key),
          JSON.stringify(frame),
        ).toHaveLength(1);
        seen.add(matching[0]!.key);
      }
    }
    const jsonMessages = serverMessages.filter((m) => m.contentType !== "text/plain").map((m) => m.key);
    expect([...seen].sort()).toEqual([...jsonMessages].sort());
  });

  it("answers ping with the documented pong, a text frame", () => {
    expect(serverFrameProblems("pong")).toEqual([]);
    expect(clientFrameProblems("ping")).toEqual([]);
    expect(serverFrameProblems("ping")).not.toEqual([]);
  });
});

describe("client frames", () => {
  it("the client library sends only documented frames", () => {
    fc.assert(
      fc.property(currencySet(1), currencySet(1), (wanted, current) => {
        for (const frame of subscriptionDiff(wanted, current)) {
          expect(clientFrameProblems(JSON.stringify(frame))).toEqual([]);
        }
      }),
    );
  });

  it("the server accepts every frame the document allows, and refuses what it does not", () => {
    const documented = fc.record({
      type: fc.constantFrom(...clientMessages.flatMap((m) => (m.text === undefined ? [m.discriminators.type] : []))),
      currencies: fc.array(currency, { minLength: 1, maxLength: 14 }),
    });
    fc.assert(
      fc.property(documented, (frame) => {
        const text = JSON.stringify(frame);
        expect(clientFrameProblems(text)).toEqual([]);
        expect(parseClientFrame(text)).toMatchObject({ ok: true });
      }),
    );
    for (const refused of [
      { type: "subscribe", currencies: [] },
      { type: "subscribe", currencies: ["DOGE"] },
      { type: "subscribe" },
      { type: "hello", currencies: ["USD"] },
    ]) {
      const text = JSON.stringify(refused);
      expect(clientFrameProblems(text), text).not.toEqual([]);
      expect(parseClientFrame(text), text).toMatchObject({ ok: false });
    }
  });
});

import { describe, expect, it } from "vitest";
import { DEFAULT_URL, parseArgs } from "../../src/cli/args";
import { COLOR, gapLine, heartbeatLine, PLAIN, stateLine, statusLine, tickLine } from "../../src/cli/format";
import type { PriceTick } from "../../src/sdk";

describe("pricefeed: arguments", () => {
  it("defaults to the local npm start server and USD", () => {
    expect(parseArgs([])).toEqual({
      kind: "run",
      options: {
        url: DEFAULT_URL,
        currencies: ["USD"],
        clientId: undefined,
        from: undefined,
        statePath: undefined,
        json: false,
        verbose: false,
        color: undefined,
      },
    });
  });

  it("reads the URL, currencies, client id, --from, --state, --json, colours, in either form", () => {
    const parsed = parseArgs([
      "wss://feed.example/pricefeed",
      "--currencies",
      "usd,eur",
      "--client-id=alice",
      "--from",
      "1764000000",
      "--state",
      "s.json",
      "--json",
      "--verbose",
      "--no-color",
    ]);
    expect(parsed).toEqual({
      kind: "run",
      options: {
        url: "wss://feed.example/pricefeed",
        currencies: ["USD", "EUR"],
        clientId: "alice",
        from: 1764000000,
        statePath: "s.json",
        json: true,
        verbose: true,
        color: false,
      },
    });
    expect(parseArgs(["-c", "GBP"])).toMatchObject({ options: { currencies: ["GBP"] } });
    expect(parseArgs(["--help"])).toEqual({ kind: "help" });
    expect(parseArgs(["-v"])).toMatchObject({ options: { verbose: true } });
    expect(parseArgs(["--verbose=yes"])).toMatchObject({ kind: "error", message: "--verbose takes no value" });
  });

  it("refuses what the feed would refuse, with the reason", () => {
    expect(parseArgs(["--currencies", "XYZ"])).toEqual({
      kind: "error",
      message: expect.stringContaining('unsupported currency "XYZ"'),
    });
    expect(parseArgs(["--currencies"])).toMatchObject({ kind: "error" });
    expect(parseArgs(["--client-id", "a b"])).toMatchObject({
      kind: "error",
      message: expect.stringContaining("--client-id"),
    });
    expect(parseArgs(["--from", "yesterday"])).toMatchObject({
      kind: "error",
      message: expect.stringContaining("Unix seconds"),
    });
    expect(parseArgs(["localhost:8787"])).toMatchObject({ kind: "error", message: expect.stringContaining("ws://") });
    expect(parseArgs(["ws://a/pricefeed", "ws://b/pricefeed"])).toMatchObject({
      kind: "error",
      message: expect.stringContaining("one URL"),
    });
    expect(parseArgs(["--loud"])).toEqual({ kind: "error", message: "unknown option --loud" });
  });

  it("takes the usual shapes: -cEUR, --name=value, -- before a positional, help in a group", () => {
    expect(parseArgs(["-cEUR"])).toMatchObject({ kind: "run", options: { currencies: ["EUR"] } });
    expect(parseArgs(["--currencies=gbp,jpy", "--state=-"])).toMatchObject({
      kind: "run",
      options: { currencies: ["GBP", "JPY"], statePath: "-" },
    });
    expect(parseArgs(["--json", "--", "wss://x.example/pricefeed"])).toMatchObject({
      kind: "run",
      options: { url: "wss://x.example/pricefeed", json: true },
    });
    expect(parseArgs(["--no-color", "--color"])).toMatchObject({ options: { color: true } });
    expect(parseArgs(["-h"])).toEqual({ kind: "help" });
    expect(parseArgs(["--json", "-hc", "USD"])).toEqual({ kind: "help" });
  });

  it("refuses bad input with the first problem in the order given, never taking an option as a value", () => {
    const error = (argv: string[]) => {
      const parsed = parseArgs(argv);
      if (parsed.kind !== "error") throw new Error(`${JSON.stringify(argv)} parsed as ${JSON.stringify(parsed)}`);
      return parsed.message;
    };
    const needsList = "needs a list, e.g. USD,EUR";
    const needsSeconds = "--from needs Unix seconds, e.g. --from $(date -d '-5 min' +%s)";
    const needsId = "--client-id needs 1-64 characters of A-Z, a-z, 0-9, _ or -";
    expect(error(["--currencies"])).toBe(`--currencies ${needsList}`);
    expect(error(["-c"])).toBe(`-c ${needsList}`);
    expect(error(["--currencies", "--json"])).toBe(`--currencies ${needsList}`);
    expect(error(["-c", "-h"])).toBe(`-c ${needsList}`);
    expect(error(["--currencies="])).toMatch(/^--currencies: /);
    expect(error(["-c=EUR"])).toMatch(/^-c: unsupported currency "=EUR"/);
    expect(error(["--from"])).toBe(needsSeconds);
    expect(error(["--from", "--json"])).toBe(needsSeconds);
    expect(error(["--from="])).toBe(needsSeconds);
    expect(error(["--from", "-5"])).toBe(needsSeconds);
    expect(error(["--from", "1764000000123"])).toBe(needsSeconds);
    expect(error(["--from", "1.5"])).toBe(needsSeconds);
    expect(error(["--client-id"])).toBe(needsId);
    expect(error(["--client-id", "--json"])).toBe(needsId);
    expect(error(["--client-id", "x".repeat(65)])).toBe(needsId);
    expect(error(["--client-id=ünï"])).toBe(needsId);
    expect(error(["--state"])).toBe("--state needs a file name");
    expect(error(["--state="])).toBe("--state needs a file name");
    expect(error(["--state", "--json"])).toBe("--state needs a file name");
    expect(error(["--json=yes"])).toBe("--json takes no value");
    expect(error(["--no-color=1"])).toBe("--no-color takes no value");
    expect(error(["--help=me"])).toBe("--help takes no value");
    expect(error(["-x"])).toBe("unknown option -x");
    expect(error(["--loud=3"])).toBe("unknown option --loud");
    expect(error(["-Jc", "USD"])).toBe("unknown option -J");
    expect(error(["--", "--json"])).toBe("URL --json must start with ws://, wss://, http:// or https://");
    expect(error(["-"])).toBe("URL - must start with ws://, wss://, http:// or https://");
    // The first problem wins, as typed: an error before --help is reported, --help before it is help.
    expect(error(["--loud", "--help"])).toBe("unknown option --loud");
    expect(error(["--from", "x", "--currencies", "XYZ"])).toBe(needsSeconds);
    expect(parseArgs(["--help", "--loud"])).toEqual({ kind: "help" });
  });
});

describe("pricefeed: lines", () => {
  const tick = (seq: number, usd: number, replayed = false): PriceTick => ({
    seq,
    ts: 1_764_014_405,
    time: new Date(2026, 10, 24, 20, 0, 5).toISOString(),
    prices: { USD: usd, JPY: 15_000_000 },
    sources: ["simulated"],
    replayed,
  });

  it("prints a tick with arrows against the previous price, plain or coloured", () => {
    expect(tickLine(tick(42, 97_123.45), ["USD", "JPY"], {}, PLAIN)).toBe(
      "20:00:05  #42       USD 97,123.45   JPY 15,000,000",
    );
    expect(tickLine(tick(43, 97_100), ["USD", "JPY"], { USD: 97_123.45, JPY: 15_000_000 }, PLAIN)).toBe(
      "20:00:05  #43       USD 97,100.00 ▼ -23.45   JPY 15,000,000 =",
    );
    const coloured = tickLine(tick(44, 97_200), ["USD"], { USD: 97_100 }, COLOR);
    expect(coloured).toContain("\u001b[32m▲ +100.00\u001b[39m");
    expect(tickLine(tick(44, 97_200), ["USD"], { USD: 97_100 }, PLAIN)).not.toContain("\u001b");
  });

  it("marks replayed ticks, gaps, statuses and connection changes", () => {
    expect(tickLine(tick(45, 1, true), ["USD"], {}, PLAIN)).toBe("20:00:05  #45     ↺ USD 1.00 (replayed)");
    expect(gapLine({ fromSeq: 10, toSeq: 12 }, PLAIN)).toBe("~ gap #10–#12: 3 ticks the server can no longer send");
    expect(gapLine({ fromSeq: 7, toSeq: 7 }, PLAIN)).toBe("~ gap #7: 1 tick the server can no longer send");
    expect(
      statusLine(
        {
          state: "disputed",
          since: 1_764_014_400,
          disputes: [{ currency: "USD", quotes: { kraken: 97_000, coinbase: 99_500 } }],
        },
        PLAIN,
      ),
    ).toMatch(
      /^! status disputed since \d\d:\d\d:\d\d: sources disagree on USD \(kraken 97,000\.00 vs coinbase 99,500\.00\)$/,
    );
    expect(statusLine({ state: "live" }, PLAIN)).toBe("! status live: fresh prices again");
    expect(
      stateLine(
        "reconnecting",
        { attempt: 2, retryAt: 12_500, reason: "heartbeat_timeout" },
        DEFAULT_URL,
        10_000,
        PLAIN,
      ),
    ).toBe("· connection dead (no pong); retrying in 2.5 s");
    const closed = (reason: "stopped" | "unsupported_protocol" | "rejected") =>
      stateLine("closed", { attempt: 0, retryAt: null, reason }, DEFAULT_URL, 0, PLAIN);
    expect(closed("stopped")).toBe("· closed");
    expect(closed("unsupported_protocol")).toMatch(/^! closed: .*protocol version .*upgrade/);
    expect(closed("rejected")).toBe("! closed: refused by the server; not retrying");
  });
});

describe("pricefeed: heartbeats", () => {
  it("prints a heartbeat as a quiet note naming the head seq", () => {
    expect(heartbeatLine({ seq: 42, time: "2026-12-06T11:00:00.000Z" }, PLAIN)).toBe(
      "· heartbeat #42 2026-12-06T11:00:00.000Z: feed alive, nothing moved",
    );
  });

  it("says why it reconnects after a stall", () => {
    const line = stateLine("reconnecting", { attempt: 1, retryAt: 1500, reason: "stalled" }, "ws://x", 1000, PLAIN);
    expect(line).toContain("the feed went silent");
  });
});

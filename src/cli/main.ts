/**
 * `pricefeed`: the price feed in a terminal, through the client library (so it reconnects and
 * resumes like any other client). Started by bin/pricefeed.mjs, which checks the Node version.
 */
import type { Currency } from "../protocol";
import { PriceFeedClient } from "../sdk";
import { parseArgs, USAGE, type CliOptions } from "./args";
import { fileStorage } from "./file-storage";
import {
  COLOR,
  gapLine,
  heartbeatLine,
  PLAIN,
  resetLine,
  stateLine,
  statusLine,
  tickLine,
  welcomeLine,
} from "./format";

function useColor(option: boolean | undefined): boolean {
  if (option !== undefined) return option;
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== "0") return true;
  return Boolean(process.stdout.isTTY);
}

function run(options: CliOptions): void {
  const style = useColor(options.color) ? COLOR : PLAIN;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const note = (line: string) => (options.json ? undefined : process.stderr.write(`${line}\n`));
  const json = (event: string, body: object) => out(JSON.stringify({ event, ...body }));

  const feed = new PriceFeedClient({
    url: options.url,
    currencies: options.currencies,
    clientId: options.clientId,
    from: options.from,
    storage: options.statePath ? fileStorage(options.statePath) : undefined,
    storageKey: "pricefeed.",
  });
  const previous: Partial<Record<Currency, number>> = {};

  feed.on("price", (tick) => {
    if (options.json) json("price", tick);
    else out(tickLine(tick, feed.currencies, previous, style));
    for (const [c, p] of Object.entries(tick.prices) as [Currency, number][]) previous[c] = p;
  });
  feed.on("gap", (gap) => (options.json ? json("gap", gap) : out(gapLine(gap, style))));
  feed.on("status", (status) => (options.json ? json("status", status) : out(statusLine(status, style))));
  feed.on("reset", (info) => (options.json ? json("reset", info) : out(resetLine(info, style))));
  feed.on("replay", ({ count }) => {
    if (options.json) json("replay", { count });
    else if (count > 0) note(style.info(`· replayed ${count} missed tick${count === 1 ? "" : "s"}; live from here`));
  });
  feed.on("heartbeat", (beat) => {
    if (!options.verbose) return;
    if (options.json) json("heartbeat", beat);
    else note(heartbeatLine(beat, style));
  });
  feed.on("error", (error) =>
    options.json ? json("error", error) : note(style.warn(`! server error ${error.code}: ${error.message}`)),
  );
  let stopping = false;
  let resumeFrom: number | null = feed.lastSeq;
  feed.on("state", (state, detail) => {
    if (state !== "open") resumeFrom = feed.lastSeq;
    // The library gave up for good: say so in the exit status too.
    if (detail.reason === "unsupported_protocol" || detail.reason === "rejected") process.exitCode = 1;
    if (options.json) json("state", { state, ...detail, lastSeq: feed.lastSeq });
    else if (state !== "open" && !stopping) note(stateLine(state, detail, options.url, Date.now(), style));
  });
  feed.on("welcome", (w) => (options.json ? json("welcome", w) : note(welcomeLine(w, resumeFrom, style))));

  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    feed.close();
    if (!options.json) note(style.info(`· stopped${feed.lastSeq !== null ? ` after #${feed.lastSeq}` : ""}`));
    process.exitCode = code;
    // Let stdout drain; nothing else keeps the process alive once the feed is closed.
    setTimeout(() => process.exit(code), 200).unref();
  };
  // Interrupted, as a shell expects it: 128 + the signal's number.
  process.on("SIGINT", () => stop(130));
  process.on("SIGTERM", () => stop(143));
  // `pricefeed | head`: the reader left; leave quietly.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") stop(0);
    else throw err;
  });
  feed.start();
}

const parsed = parseArgs(process.argv.slice(2));
if (parsed.kind === "help") {
  process.stdout.write(`${USAGE}\n`);
} else if (parsed.kind === "error") {
  process.stderr.write(`pricefeed: ${parsed.message}\n\n${USAGE}\n`);
  process.exitCode = 2;
} else {
  run(parsed.options);
}

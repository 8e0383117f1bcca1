// Tests never reach the internet: an upstream a test has not faked answers 503 at once,
// instead of a DNS failure for the *.test hosts when a stray hub alarm polls.
const realFetch = globalThis.fetch;
globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.hostname.endsWith(".test")) {
    return new Response("no upstream faked in this test", { status: 503 });
  }
  return realFetch(input, init);
}) as typeof fetch;

// Logs are kept per test and printed only when it fails: the report stays readable.
import { afterEach, beforeEach } from "vitest";
import { takeUndocumented } from "./api-docs";
import { captureLogs, clearLogs, logLines } from "./logs";

captureLogs();
beforeEach(({ onTestFailed }) => {
  clearLogs();
  onTestFailed(() => {
    const lines = logLines();
    if (lines.length > 0) console.log(`logs of the failed test (${lines.length}):\n${lines.join("\n")}`);
  });
});

// Every frame a test client received must be one docs/asyncapi.yaml describes (test/support/feed.ts).
afterEach(() => {
  const frames = takeUndocumented();
  if (frames.length > 0) {
    throw new Error(`${frames.length} frame(s) the server sent do not match docs/asyncapi.yaml:\n${frames.join("\n")}`);
  }
});

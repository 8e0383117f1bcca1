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

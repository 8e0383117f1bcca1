// A Server-Sent Events reader for the integration run: GET /pricefeed with Accept: text/event-stream
// through Node's fetch, its events parsed as an EventSource would (event, id, data; comments kept).

/**
 * Opens the stream and reads it in the background until `close()`. `events` fill as they arrive;
 * `status` and `headers` are the response's; `ended` says the server ended the stream.
 */
export async function openEventStream(url, { lastEventId } = {}) {
  const abort = new AbortController();
  const headers = { Accept: "text/event-stream" };
  if (lastEventId) headers["Last-Event-ID"] = lastEventId;
  const res = await fetch(url, { headers, signal: abort.signal });
  const stream = { status: res.status, headers: res.headers, events: [], comments: [], retry: null, ended: false };
  stream.frames = (type) =>
    stream.events.filter((e) => !type || e.event === type).map((e) => ({ ...JSON.parse(e.data), id: e.id }));
  stream.close = () => abort.abort();
  if (!res.ok || !res.body) {
    stream.body = await res.text();
    stream.ended = true;
    return stream;
  }
  const decoder = new TextDecoder();
  let buffer = "";
  (async () => {
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
          parseBlock(stream, buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
      }
    } catch {
      // aborted by close(), or the connection died (a restart)
    }
    stream.ended = true;
  })();
  return stream;
}

function parseBlock(stream, block) {
  const event = { event: "message", id: null, data: [] };
  let fields = 0;
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) {
      stream.comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    fields++;
    if (name === "event") event.event = value;
    else if (name === "id") event.id = value;
    else if (name === "data") event.data.push(value);
    else if (name === "retry") stream.retry = Number(value);
  }
  if (fields > 0 && event.data.length > 0) stream.events.push({ ...event, data: event.data.join("\n") });
}

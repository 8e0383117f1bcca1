// The client library in a dozen lines: `npx node examples/feed.mjs [ws://host/pricefeed]`
// (npx: this repository's Node 22, whose global WebSocket the library uses).
import { PriceFeedClient } from "btc-pricefeed/client";

const feed = new PriceFeedClient({
  url: process.argv[2] ?? "ws://localhost:8787/pricefeed",
  currencies: ["USD", "EUR"],
});
feed.on("price", (t) =>
  console.log(`#${t.seq} ${t.time} USD ${t.prices.USD} EUR ${t.prices.EUR}${t.replayed ? " (replayed)" : ""}`),
);
feed.on("gap", (g) => console.log(`gap: #${g.fromSeq}..#${g.toSeq} will never come`));
feed.on("status", (s) => console.log(`status: ${s.state}`));
feed.on("state", (s, d) =>
  console.log(
    `state: ${s}${d.reason ? ` (${d.reason})` : ""}${d.retryAt ? `, retry in ${d.retryAt - Date.now()} ms` : ""}`,
  ),
);
feed.on("welcome", (w) => console.log(`welcome: client ${w.clientId}, last seq ${feed.lastSeq ?? "none"}`));
feed.start();
process.on("SIGINT", () => {
  feed.close();
  console.log(`closed at #${feed.lastSeq}`);
});

/**
 * btc-pricefeed/client: a reconnecting, resuming client for the BTC price feed.
 *
 *   const feed = new PriceFeedClient({ url: "ws://localhost:8787/pricefeed", currencies: ["USD", "EUR"] });
 *   feed.on("price", (tick) => console.log(tick.seq, tick.prices));
 *   feed.on("gap", ({ fromSeq, toSeq }) => console.warn("never coming:", fromSeq, toSeq));
 *   feed.start();
 */
export { PriceFeedClient, type PriceFeedOptions } from "./client";
export type {
  ConnectionState,
  DownReason,
  FeedStatus,
  GapRange,
  HeartbeatInfo,
  PriceFeedEvents,
  PriceTick,
  ReplayInfo,
  ResetInfo,
  ServerError,
  StateDetail,
  WelcomeInfo,
} from "./types";
export { memoryStorage, type KeyValueStorage } from "./storage";
export type { BackoffOptions } from "./backoff";
export type { Clock } from "./clock";
export type { WebSocketConstructor } from "./transport";
export { PROTOCOL_VERSION, SUPPORTED_CURRENCIES, type Currency, type Dispute } from "../protocol";

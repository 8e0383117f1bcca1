/**
 * What the objects offer each other over RPC. Each side imports these interfaces, never the other's
 * class: the hub knows sessions and relays only as `SessionApi` and `RelayApi`, a session knows the
 * hub only as `HubApi`.
 */
import type { StatusMessage, Tick } from "./protocol";
import type { TickPage } from "./storage/tick-table";

/** What the hub pushes to client sessions (directly or through relays). */
export type HubEvent = { kind: "tick"; tick: Tick } | { kind: "status"; status: StatusMessage };

/** A session's answer: `subscribed: false` tells the hub to forget it (it expired). */
export interface ReceiveResult {
  subscribed: boolean;
}

export interface DeliveryReport {
  delivered: number;
  failed: number;
  /** Sessions that no longer exist: the hub drops them from its subscribers. */
  gone: string[];
}

export interface SubscribeResult {
  latest: Tick | null;
  status: StatusMessage;
  epoch: string;
}

/** What the hub offers client sessions. */
export interface HubApi extends Rpc.DurableObjectBranded {
  subscribe(clientId: string): Promise<SubscribeResult>;
  unsubscribe(clientId: string): void;
  ticksAfter(afterSeq: number, limit: number): TickPage;
  ticksSince(sinceMs: number, limit: number): TickPage;
}

/** What a client session offers the hub and the relays. */
export interface SessionApi extends Rpc.DurableObjectBranded {
  receive(event: HubEvent): Promise<ReceiveResult>;
}

/** What a relay offers the hub: one branch of the fan-out tree. */
export interface RelayApi extends Rpc.DurableObjectBranded {
  relay(event: HubEvent, clientIds: string[]): Promise<DeliveryReport>;
}

/**
 * What the objects offer each other over RPC. Each side imports these interfaces, never the other's
 * class: the hub knows sessions and relays only as `SessionApi` and `RelayApi`, a session knows the
 * hub only as `HubApi`.
 */
import type { StatusMessage, Tick } from "./protocol";
import type { TickPage } from "./storage/tick-table";

/** What the hub pushes to client sessions (directly or through relays). */
export type HubEvent =
  /** `epoch`: the history the tick's seq belongs to; a session holding another one starts over. */
  | {
      kind: "tick";
      tick: Tick;
      epoch: string;
      /** The hub's history after the seq a session said it is missing (see ReceiveResult.missingAfter). */
      backlog?: TickPage;
    }
  | { kind: "status"; status: StatusMessage };

/** A session's answer: `subscribed: false` tells the hub to forget it (it expired). */
export interface ReceiveResult {
  subscribed: boolean;
  /**
   * The session has a hole before this tick (a lost delivery, a restart) and did not handle it:
   * it wants the same tick again with a `backlog` of the history after this seq. The deliverer
   * reads that history once for all the sessions of its batch, instead of each asking the hub.
   */
  missingAfter?: number;
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

/** What a relay offers the hub: one branch of the fan-out tree. It reads backlogs through HubApi. */
export interface RelayApi extends Rpc.DurableObjectBranded {
  relay(event: HubEvent, clientIds: string[]): Promise<DeliveryReport>;
}

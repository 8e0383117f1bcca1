import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config";
import { deliverToSessions } from "./deliver";
import type { DeliveryReport, HubEvent } from "./events";
import { SessionStubs } from "./session-stubs";

/**
 * One branch of the fan-out tree: the hub hands it an event and its share of client ids,
 * so no single object makes more than a chunk of calls per tick. It keeps no durable state
 * (the hub owns the subscriber list and decides which relay serves whom), only stubs.
 */
export class FanoutRelay extends DurableObject<Env> {
  private readonly sessions = new SessionStubs(this.env.CLIENT_SESSION);

  async relay(event: HubEvent, clientIds: string[]): Promise<DeliveryReport> {
    return deliverToSessions(this.sessions, event, clientIds);
  }
}

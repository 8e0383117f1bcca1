import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config";
import { deliverToSessions } from "./deliver";
import type { DeliveryReport, HubEvent } from "./events";

/**
 * One branch of the fan-out tree: the hub hands it an event and its share of client ids,
 * so no single object makes more than a chunk of calls per tick. It keeps no state;
 * the hub owns the subscriber list and decides which relay serves whom.
 */
export class FanoutRelay extends DurableObject<Env> {
  async relay(event: HubEvent, clientIds: string[]): Promise<DeliveryReport> {
    return deliverToSessions(this.env, event, clientIds);
  }
}

import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import type { DeliveryReport, HubEvent, RelayApi } from "../contracts";
import { hubApi } from "../stubs";
import { deliverToSessions } from "./deliver";
import { SessionStubs } from "./session-stubs";

/**
 * One branch of the fan-out tree: the hub hands it an event and its share of client ids,
 * so no single object makes more than a chunk of calls per tick. It keeps no durable state
 * (the hub owns the subscriber list and decides which relay serves whom), only stubs.
 */
export class FanoutRelay extends DurableObject<Env> implements RelayApi {
  private readonly sessions = new SessionStubs(this.env);

  async relay(event: HubEvent, clientIds: string[]): Promise<DeliveryReport> {
    const { maxBuffer } = readConfig(this.env);
    return deliverToSessions(this.sessions, event, clientIds, {
      backlog: (afterSeq) => hubApi(this.env).ticksAfter(afterSeq, maxBuffer),
    });
  }
}

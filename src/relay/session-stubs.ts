import type { SessionApi } from "../contracts";
import { sessionStub } from "../stubs";

type SessionStub = DurableObjectStub<SessionApi>;

/**
 * The stubs an object fans out to, kept between ticks: deriving an id from a name and
 * building a stub for every client on every tick is work the fan-out can skip.
 * Only the ids of the latest batch are kept, so clients that left or moved to another
 * relay are not remembered.
 */
export class SessionStubs {
  private stubs = new Map<string, SessionStub>();

  constructor(private readonly env: Env) {}

  /** The stubs for `clientIds`, in order; forgets every id not among them. */
  batch(clientIds: readonly string[]): SessionStub[] {
    const next = new Map<string, SessionStub>();
    const out = clientIds.map((id) => {
      const stub = this.stubs.get(id) ?? next.get(id) ?? sessionStub(this.env, id);
      next.set(id, stub);
      return stub;
    });
    this.stubs = next;
    return out;
  }

  /** A call through this stub threw: the next tick builds a fresh one (a stub can break with its call). */
  forget(clientId: string): void {
    this.stubs.delete(clientId);
  }

  clear(): void {
    this.stubs.clear();
  }

  get size(): number {
    return this.stubs.size;
  }
}

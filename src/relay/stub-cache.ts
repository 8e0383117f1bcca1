/**
 * The stubs an object fans out to, kept between events: deriving an id from a name and building a stub
 * for every receiver on every event is work a fan-out can skip. Only the names of the latest batch are
 * kept, so receivers that left are not remembered.
 */
export class StubCache<Stub> {
  private stubs = new Map<string, Stub>();

  constructor(private readonly make: (name: string) => Stub) {}

  /** The stubs for `names`, in order; forgets every name not among them. */
  batch(names: readonly string[]): Stub[] {
    const next = new Map<string, Stub>();
    const out = names.map((name) => {
      const stub = this.stubs.get(name) ?? next.get(name) ?? this.make(name);
      next.set(name, stub);
      return stub;
    });
    this.stubs = next;
    return out;
  }

  /** A call through this stub threw: the next batch builds a fresh one (a stub can break with its call). */
  forget(name: string): void {
    this.stubs.delete(name);
  }

  get size(): number {
    return this.stubs.size;
  }
}

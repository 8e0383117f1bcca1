/**
 * The sessions a shard serves: stored as a table, and kept in memory, where a fan-out reads them every
 * event. Each registration gets a new generation number, so a fan-out that found a session gone removes
 * only the registration it delivered to, never one made while it ran (a client purged and back during
 * the fan-out stays listed).
 *
 * Generations are counted in memory only. A fan-out's generation lives no longer than the instance that
 * read it, so a new instance can count every member it finds listed as generation 0. A member that
 * registers again while listed (every reconnect after a restart, every lease) then costs no write.
 */
export class MemberTable {
  /** Every listed member with the generation of its latest registration; loaded once per instance. */
  private listed: Map<string, number> | null = null;
  private generationKept = 0;
  private created = false;
  /**
   * Members that said they keep nothing until they register again (ReceiveResult.parked), with when:
   * no event is sent to them. In memory only: a new instance sends to them once more and hears it again.
   */
  private readonly parkedAtMs = new Map<string, number>();

  constructor(private readonly storageSql: SqlStorage) {}

  private get sql(): SqlStorage {
    if (!this.created) {
      // `gen` is no longer read (see above); it stays in the shape tables were made with.
      this.storageSql.exec(
        "CREATE TABLE IF NOT EXISTS members " +
          "(client_id TEXT PRIMARY KEY, since_ms INTEGER NOT NULL, gen INTEGER NOT NULL)",
      );
      this.created = true;
    }
    return this.storageSql;
  }

  /** The newest generation handed out; every member listed now has a generation at most this. */
  get generation(): number {
    return this.generationKept;
  }

  add(clientIds: readonly string[], nowMs: number): void {
    if (clientIds.length === 0) return;
    const listed = this.loaded();
    const gen = ++this.generationKept;
    for (const id of clientIds) {
      if (!listed.has(id)) {
        this.sql.exec("INSERT OR IGNORE INTO members (client_id, since_ms, gen) VALUES (?, ?, 0)", id, nowMs);
      }
      listed.set(id, gen);
      this.parkedAtMs.delete(id);
    }
  }

  /** Parks members that answered `parked`, unless they registered again after `generation`. */
  park(clientIds: readonly string[], generation: number, nowMs: number): void {
    for (const id of clientIds) if (this.listedBy(id, generation)) this.parkedAtMs.set(id, nowMs);
  }

  /**
   * The members an event goes to: all but the parked. One parked for `probeAfterMs` or longer gets the
   * event again: a session that was purged meanwhile answers it, and its shard forgets it.
   */
  reachable(nowMs: number, probeAfterMs: number): string[] {
    const out: string[] = [];
    for (const id of this.loaded().keys()) {
      const parkedAt = this.parkedAtMs.get(id);
      if (parkedAt === undefined || nowMs - parkedAt >= probeAfterMs) out.push(id);
    }
    return out;
  }

  get parkedCount(): number {
    return this.parkedAtMs.size;
  }

  /** Removes members, whatever their generation; returns how many were listed. */
  remove(clientIds: readonly string[]): number {
    const listed = this.loaded();
    let removed = 0;
    for (const id of clientIds) {
      this.parkedAtMs.delete(id);
      if (!listed.delete(id)) continue;
      this.sql.exec("DELETE FROM members WHERE client_id = ?", id);
      removed++;
    }
    return removed;
  }

  /** Removes members a fan-out found gone, unless they registered again after `generation`. */
  removeGone(clientIds: readonly string[], generation: number): void {
    this.remove(clientIds.filter((id) => this.listedBy(id, generation)));
  }

  /** Listed by a registration no later than `generation`: not one made after a fan-out began. */
  private listedBy(clientId: string, generation: number): boolean {
    const gen = this.loaded().get(clientId);
    return gen !== undefined && gen <= generation;
  }

  has(clientId: string): boolean {
    return this.loaded().has(clientId);
  }

  ids(): string[] {
    return [...this.loaded().keys()];
  }

  get count(): number {
    return this.loaded().size;
  }

  private loaded(): Map<string, number> {
    this.listed ??= new Map(
      this.sql
        .exec<{ client_id: string }>("SELECT client_id FROM members")
        .toArray()
        .map((r) => [r.client_id, 0]),
    );
    return this.listed;
  }
}

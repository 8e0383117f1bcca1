/**
 * The sessions a shard serves. Each registration gets a new generation number, so a fan-out that found
 * a session gone removes only the registration it delivered to, never one made while it ran (a client
 * purged and back during the fan-out stays listed). The ids are kept in memory too: a fan-out reads
 * them every event.
 */
export class MemberTable {
  private cached: Set<string> | null = null;
  private generationKept: number | null = null;
  private created = false;

  constructor(
    private readonly storageSql: SqlStorage,
    private readonly kv: SyncKvStorage,
  ) {}

  private get sql(): SqlStorage {
    if (!this.created) {
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
    this.generationKept ??= this.kv.get<number>("member_gen") ?? 0;
    return this.generationKept;
  }

  add(clientIds: readonly string[], nowMs: number): void {
    if (clientIds.length === 0) return;
    const gen = this.generation + 1;
    this.kv.put("member_gen", gen);
    this.generationKept = gen;
    for (const id of clientIds) {
      this.sql.exec(
        `INSERT INTO members (client_id, since_ms, gen) VALUES (?, ?, ?)
         ON CONFLICT (client_id) DO UPDATE SET since_ms = excluded.since_ms, gen = excluded.gen`,
        id,
        nowMs,
        gen,
      );
      this.cached?.add(id);
    }
  }

  /** Removes members, whatever their generation; returns how many were listed. */
  remove(clientIds: readonly string[]): number {
    let removed = 0;
    for (const id of clientIds) {
      removed += this.sql.exec("DELETE FROM members WHERE client_id = ?", id).rowsWritten;
      this.cached?.delete(id);
    }
    return removed;
  }

  /** Removes members a fan-out found gone, unless they registered again after `generation`. */
  removeGone(clientIds: readonly string[], generation: number): void {
    for (const id of clientIds) {
      const removed = this.sql.exec("DELETE FROM members WHERE client_id = ? AND gen <= ?", id, generation).rowsWritten;
      if (removed > 0) this.cached?.delete(id);
    }
  }

  has(clientId: string): boolean {
    return this.loaded().has(clientId);
  }

  ids(): string[] {
    return [...this.loaded()];
  }

  get count(): number {
    return this.loaded().size;
  }

  private loaded(): Set<string> {
    this.cached ??= new Set(
      this.sql
        .exec<{ client_id: string }>("SELECT client_id FROM members")
        .toArray()
        .map((r) => r.client_id),
    );
    return this.cached;
  }

  /** Call after storage.deleteAll(). */
  forget(): void {
    this.cached = null;
    this.generationKept = null;
    this.created = false;
  }
}

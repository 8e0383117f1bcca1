/**
 * The hub's subscriber list. Each subscribe gets a new generation number, so a fan-out that found a
 * client gone removes only the subscription it delivered to, never one made while it ran (a client
 * purged and back during the fan-out stays on the list).
 */
export class SubscriberTable {
  constructor(
    private readonly sql: SqlStorage,
    private readonly kv: SyncKvStorage,
  ) {
    sql.exec("CREATE TABLE IF NOT EXISTS subscribers (client_id TEXT PRIMARY KEY, since_ms INTEGER NOT NULL)");
    const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('subscribers')").toArray();
    if (!columns.some((c) => c.name === "gen"))
      sql.exec("ALTER TABLE subscribers ADD COLUMN gen INTEGER NOT NULL DEFAULT 0");
  }

  /** The newest generation handed out; every row listed now has a generation at most this. */
  get generation(): number {
    return this.kv.get<number>("subscriber_gen") ?? 0;
  }

  add(clientId: string, nowMs: number): void {
    const gen = this.generation + 1;
    this.kv.put("subscriber_gen", gen);
    this.sql.exec(
      `INSERT INTO subscribers (client_id, since_ms, gen) VALUES (?, ?, ?)
       ON CONFLICT (client_id) DO UPDATE SET since_ms = excluded.since_ms, gen = excluded.gen`,
      clientId,
      nowMs,
      gen,
    );
  }

  remove(clientId: string): void {
    this.sql.exec("DELETE FROM subscribers WHERE client_id = ?", clientId);
  }

  /** Removes clients a fan-out found gone, unless they subscribed again after `generation`. */
  removeGone(clientIds: readonly string[], generation: number): void {
    for (const id of clientIds)
      this.sql.exec("DELETE FROM subscribers WHERE client_id = ? AND gen <= ?", id, generation);
  }

  ids(): string[] {
    return this.sql
      .exec<{ client_id: string }>("SELECT client_id FROM subscribers")
      .toArray()
      .map((r) => r.client_id);
  }

  count(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM subscribers").one().n;
  }
}

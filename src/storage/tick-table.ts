import { STATS_WINDOW_S, type Currency, type PriceStats, type Tick } from "../protocol";
import { statsOf } from "./day-stats";

/** A range of seq numbers, both ends included. */
export interface SeqRange {
  fromSeq: number;
  toSeq: number;
}

/** A page of ticks for a replay. */
export interface TickPage {
  ticks: Tick[];
  /** Set when ticks in the asked range are missing: dropped by the limit or no longer kept. */
  gap: SeqRange | null;
}

/** The part of a page after `afterSeq`: what a session that has everything up to `afterSeq` is missing. */
export function pageAfter(page: TickPage, afterSeq: number): TickPage {
  const ticks = page.ticks.filter((t) => t.seq > afterSeq);
  const gap =
    page.gap && page.gap.toSeq > afterSeq
      ? { fromSeq: Math.max(page.gap.fromSeq, afterSeq + 1), toSeq: page.gap.toSeq }
      : null;
  return { ticks, gap };
}

/** A page of one currency's prices: `points` is the JSON array text of `{seq, ts, time, price}`. */
export interface PricePage {
  points: string;
  count: number;
  lastSeq: number | null;
  /** More points lie in the window after `lastSeq`. */
  more: boolean;
}

/** A page of one currency's candles: `candles` is the JSON array text of `Candle`s, oldest first. */
export interface CandlePage {
  candles: string;
  count: number;
  /** The last candle's `time`: the next page's cursor. */
  lastTime: number | null;
  /** More candles lie in the window after `lastTime`. */
  more: boolean;
}

/** A seq below every tick's. */
const EVERY_SEQ = -1;

interface TickRow extends Record<string, SqlStorageValue> {
  seq: number;
  ts_ms: number;
  prices: string;
  changed: string;
  sources: string;
  currency_sources: string | null;
}

const rowToTick = (row: TickRow): Tick => ({
  seq: row.seq,
  tsMs: row.ts_ms,
  prices: JSON.parse(row.prices),
  changed: JSON.parse(row.changed),
  sources: JSON.parse(row.sources),
  ...(row.currency_sources ? { currencySources: JSON.parse(row.currency_sources) } : {}),
});

/**
 * A table of ticks ordered by seq. The hub keeps its history in one, each client session
 * keeps its offline buffer in another: the same shape and the same queries serve both.
 */
export class TickTable {
  private created = false;
  /** dayStats() and the table's seq range and size it was computed for. */
  private dayStatsKept: { key: string; stats: Partial<Record<Currency, PriceStats>> } | null = null;

  constructor(
    private readonly storageSql: SqlStorage,
    private readonly table: "ticks" | "buffer",
  ) {}

  /** The table is created on first use, so an object that never stored a tick (or was purged) holds none. */
  private create(): void {
    this.storageSql.exec(
      `CREATE TABLE IF NOT EXISTS ${this.table} (
         seq INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,
         prices TEXT NOT NULL, changed TEXT NOT NULL, sources TEXT NOT NULL, currency_sources TEXT)`,
    );
    // Tables created before per-currency sources existed get the column.
    const columns = this.storageSql
      .exec<{ name: string }>("SELECT name FROM pragma_table_info(?)", this.table)
      .toArray();
    if (!columns.some((c) => c.name === "currency_sources")) {
      this.storageSql.exec(`ALTER TABLE ${this.table} ADD COLUMN currency_sources TEXT`);
    }
    this.storageSql.exec(`CREATE INDEX IF NOT EXISTS ${this.table}_ts ON ${this.table}(ts_ms)`);
    this.created = true;
  }

  /**
   * Runs a statement on the table, creating it first. A table created inside a transaction that then
   * rolled back is gone although this object made it: the statement finds no table, and it is made again.
   */
  private exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T> {
    if (!this.created) this.create();
    try {
      return this.storageSql.exec<T>(query, ...bindings);
    } catch (error) {
      if (!String(error).includes("no such table")) throw error;
      this.create();
      return this.storageSql.exec<T>(query, ...bindings);
    }
  }

  /** Call after storage.deleteAll(): the table is gone and is re-created on next use. */
  forget(): void {
    this.created = false;
  }

  insert(tick: Tick): void {
    this.exec(
      `INSERT OR IGNORE INTO ${this.table} (seq, ts_ms, prices, changed, sources, currency_sources) ` +
        "VALUES (?, ?, ?, ?, ?, ?)",
      tick.seq,
      tick.tsMs,
      JSON.stringify(tick.prices),
      JSON.stringify(tick.changed),
      JSON.stringify(tick.sources),
      tick.currencySources ? JSON.stringify(tick.currencySources) : null,
    );
  }

  latest(): Tick | null {
    const rows = this.exec<TickRow>(`SELECT * FROM ${this.table} ORDER BY seq DESC LIMIT 1`).toArray();
    return rows[0] ? rowToTick(rows[0]) : null;
  }

  count(): number {
    return this.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${this.table}`).one().n;
  }

  oldestSeq(): number | null {
    return this.exec<{ s: number | null }>(`SELECT MIN(seq) AS s FROM ${this.table}`).one().s;
  }

  /** Ticks with seq > afterSeq, at most `limit` of them: the newest are kept. */
  after(afterSeq: number, limit: number): TickPage {
    const ticks = this.exec<TickRow>(
      `SELECT * FROM (SELECT * FROM ${this.table} WHERE seq > ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
      afterSeq,
      limit,
    )
      .toArray()
      .map(rowToTick);
    const first = ticks[0];
    const gap = first && first.seq > afterSeq + 1 ? { fromSeq: afterSeq + 1, toSeq: first.seq - 1 } : null;
    return { ticks, gap };
  }

  /** The oldest `limit` ticks with seq > afterSeq, oldest first: a page for copying the table elsewhere. */
  oldestAfter(afterSeq: number, limit: number): Tick[] {
    return this.exec<TickRow>(`SELECT * FROM ${this.table} WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
      .toArray()
      .map(rowToTick);
  }

  /** Ticks with ts >= sinceMs, at most `limit` of them: the newest are kept. */
  since(sinceMs: number, limit: number): TickPage {
    const ticks = this.exec<TickRow>(
      `SELECT * FROM (SELECT * FROM ${this.table} WHERE ts_ms >= ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
      sinceMs,
      limit,
    )
      .toArray()
      .map(rowToTick);
    const first = ticks[0];
    let gap: TickPage["gap"] = null;
    if (first) {
      const skipped = this.exec<{ s: number | null }>(
        `SELECT MIN(seq) AS s FROM ${this.table} WHERE ts_ms >= ? AND seq < ?`,
        sinceMs,
        first.seq,
      ).one().s;
      if (skipped !== null) gap = { fromSeq: skipped, toSeq: first.seq - 1 };
    }
    return { ticks, gap };
  }

  /**
   * One page of one currency's prices over a time window, oldest first, after seq `afterSeq`.
   * SQLite writes the page's JSON itself from the stored text (each price exactly as stored),
   * so the object parses and builds nothing per row.
   */
  pricePage(currency: Currency, fromMs: number, toMs: number, afterSeq: number, limit: number): PricePage {
    const path = `$.${currency}`;
    const page = this.exec<{ points: string; count: number; last: number | null }>(
      `SELECT json_group_array(json_object(
                  'seq', seq,
                  'ts', ts_ms / 1000,
                  'time', strftime('%Y-%m-%dT%H:%M:%S', ts_ms / 1000, 'unixepoch') || printf('.%03dZ', ts_ms % 1000),
                  'price', json(prices -> ?)) ORDER BY seq) AS points,
                COUNT(*) AS count, MAX(seq) AS last
         FROM (SELECT seq, ts_ms, prices FROM ${this.table}
               WHERE ts_ms >= ? AND ts_ms <= ? AND seq > ? AND prices -> ? IS NOT NULL
               ORDER BY seq LIMIT ?)`,
      path,
      fromMs,
      toMs,
      afterSeq,
      path,
      limit,
    ).one();
    const more = page.last !== null && page.count === limit && this.hasPrice(path, fromMs, toMs, page.last);
    return { points: page.points, count: page.count, lastSeq: page.last, more };
  }

  /** Whether a tick after `afterSeq` with fromMs <= ts <= toMs has a price at `path`. */
  private hasPrice(path: string, fromMs: number, toMs: number, afterSeq: number): boolean {
    return (
      this.exec<{ found: number }>(
        `SELECT EXISTS (SELECT 1 FROM ${this.table}
                          WHERE ts_ms >= ? AND ts_ms <= ? AND seq > ? AND prices -> ? IS NOT NULL) AS found`,
        fromMs,
        toMs,
        afterSeq,
        path,
      ).one().found === 1
    );
  }

  /**
   * One page of one currency's candles of `bucketS` seconds over the ticks with fromMs <= ts <= toMs,
   * oldest first, at most `limit` of them. Bucket k holds the ticks with k * bucketS <= ts / 1000 <
   * (k + 1) * bucketS; a bucket without a tick in the currency has no candle. Like pricePage, SQLite
   * writes the JSON, each price its stored text: the ranks pick the rows, the prices compare as numbers.
   */
  candlePage(currency: Currency, bucketS: number, fromMs: number, toMs: number, limit: number): CandlePage {
    const path = `$.${currency}`;
    // Bound numbers arrive as REAL: the casts keep the bucket arithmetic in integers.
    const page = this.exec<{ candles: string; count: number; last: number | null }>(
      `SELECT json_group_array(json_object(
                  'time', bucket * CAST(?1 AS INTEGER),
                  'open', json(open), 'high', json(high), 'low', json(low), 'close', json(close),
                  'ticks', ticks) ORDER BY bucket) AS candles,
                COUNT(*) AS count, MAX(bucket) * CAST(?1 AS INTEGER) AS last
         FROM (SELECT bucket, COUNT(*) AS ticks,
                      MAX(CASE WHEN by_seq = 1 THEN text END) AS open,
                      MAX(CASE WHEN by_price_desc = 1 THEN text END) AS high,
                      MAX(CASE WHEN by_price = 1 THEN text END) AS low,
                      MAX(CASE WHEN by_seq_desc = 1 THEN text END) AS close
               FROM (SELECT bucket, text,
                            row_number() OVER (PARTITION BY bucket ORDER BY seq) AS by_seq,
                            row_number() OVER (PARTITION BY bucket ORDER BY seq DESC) AS by_seq_desc,
                            row_number() OVER (PARTITION BY bucket ORDER BY price DESC, seq) AS by_price_desc,
                            row_number() OVER (PARTITION BY bucket ORDER BY price, seq) AS by_price
                     FROM (SELECT ts_ms / CAST(?1 * 1000 AS INTEGER) AS bucket, seq,
                                  prices ->> ?2 AS price, prices -> ?2 AS text
                           FROM ${this.table}
                           WHERE ts_ms >= ?3 AND ts_ms <= ?4 AND prices -> ?2 IS NOT NULL))
               GROUP BY bucket ORDER BY bucket LIMIT ?5)`,
      bucketS,
      path,
      fromMs,
      toMs,
      limit,
    ).one();
    const afterLastBucketMs = page.last === null ? 0 : (page.last + bucketS) * 1000;
    const more = page.last !== null && page.count === limit && this.hasPrice(path, afterLastBucketMs, toMs, EVERY_SEQ);
    return { candles: page.candles, count: page.count, lastTime: page.last, more };
  }

  /**
   * Each currency's figures over the ticks of the STATS_WINDOW_S seconds up to the latest tick's second
   * (`ts` from the latest `ts` - STATS_WINDOW_S to the latest `ts`, both included); none without a tick.
   * Kept until the table changes: a hub asked at every location every interval computes them once a tick.
   * Folded in JavaScript from the stored text (statsOf): exact, and several times cheaper than grouping
   * every currency's prices in SQL (json_each), measured over a day of ticks.
   */
  dayStats(): Partial<Record<Currency, PriceStats>> {
    const shape = this.exec<{ lo: number | null; hi: number | null; n: number }>(
      `SELECT MIN(seq) AS lo, MAX(seq) AS hi, COUNT(*) AS n FROM ${this.table}`,
    ).one();
    const key = `${shape.lo}:${shape.hi}:${shape.n}`;
    if (this.dayStatsKept?.key === key) return this.dayStatsKept.stats;
    const latest = this.latest();
    let stats: Partial<Record<Currency, PriceStats>> = {};
    if (latest) {
      const lastS = Math.floor(latest.tsMs / 1000);
      const rows = this.exec<{ prices: string }>(
        `SELECT prices FROM ${this.table} WHERE ts_ms >= ? AND ts_ms <= ? ORDER BY seq`,
        (lastS - STATS_WINDOW_S) * 1000,
        lastS * 1000 + 999,
      ).toArray();
      stats = statsOf(rows.map((row) => JSON.parse(row.prices) as Tick["prices"]));
    }
    this.dayStatsKept = { key, stats };
    return stats;
  }

  deleteOlderThan(tsMs: number): void {
    this.exec(`DELETE FROM ${this.table} WHERE ts_ms < ?`, tsMs);
  }

  /** Drops the oldest rows beyond `keep`; returns the seq range dropped, if any. */
  trimTo(keep: number): SeqRange | null {
    const excess = this.count() - keep;
    if (excess <= 0) return null;
    const range = this.exec<{ lo: number; hi: number }>(
      `SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM (SELECT seq FROM ${this.table} ORDER BY seq LIMIT ?)`,
      excess,
    ).one();
    this.exec(`DELETE FROM ${this.table} WHERE seq <= ?`, range.hi);
    return { fromSeq: range.lo, toSeq: range.hi };
  }

  /** Empties the table. One that does not exist is empty: it is not made just to be cleared. */
  clear(): void {
    if (this.created || this.exists()) this.exec(`DELETE FROM ${this.table}`);
  }

  /** Asked of the schema rather than learned from a failed statement: a thrown error costs far more. */
  private exists(): boolean {
    return (
      this.storageSql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", this.table).toArray()
        .length > 0
    );
  }
}

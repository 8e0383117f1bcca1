import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TickTable } from "../../src/storage/tick-table";
import { tick } from "../support/ticks";

const inObject = <T>(name: string, work: (sql: SqlStorage) => T) =>
  runInDurableObject(env.CLIENT_SESSION.get(env.CLIENT_SESSION.idFromName(`tick-table-${name}`)), (_i, state) =>
    work(state.storage.sql),
  );

const tableExists = (sql: SqlStorage) =>
  sql.exec("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?", "buffer").one().n === 1;

describe("TickTable.clear", () => {
  it("leaves a table that was never made unmade (a session going live must not create its buffer)", async () => {
    const made = await inObject("never-made", (sql) => {
      new TickTable(sql, "buffer").clear();
      return tableExists(sql);
    });
    expect(made).toBe(false);
  });

  it("empties a table that holds ticks, and the table takes ticks again afterwards", async () => {
    const counts = await inObject("holds-ticks", (sql) => {
      const table = new TickTable(sql, "buffer");
      for (const seq of [1, 2, 3]) table.insert(tick(seq));
      const before = table.count();
      new TickTable(sql, "buffer").clear();
      const after = table.count();
      table.insert(tick(4));
      return [before, after, table.after(0, 10).ticks.map((t) => t.seq)];
    });
    expect(counts).toEqual([3, 0, [4]]);
  });
});

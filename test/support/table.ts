import { env, runInDurableObject } from "cloudflare:test";
import { TickTable } from "../../src/storage/tick-table";

/** A fresh TickTable in an object of its own (a session's storage, never used as a session here). */
export const inTable = <T>(name: string, work: (table: TickTable) => T) =>
  runInDurableObject(env.CLIENT_SESSION.get(env.CLIENT_SESSION.idFromName(`table-${name}`)), (_i, state) => {
    state.storage.sql.exec("DROP TABLE IF EXISTS ticks");
    return work(new TickTable(state.storage.sql, "ticks"));
  });

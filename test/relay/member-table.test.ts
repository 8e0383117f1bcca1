import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MemberTable } from "../../src/relay/member-table";

/** Storage of an object of its own (a session's, never used as a session here), and the statements run on it. */
const inStorage = <T>(name: string, work: (sql: SqlStorage, statements: string[]) => T) =>
  runInDurableObject(env.CLIENT_SESSION.get(env.CLIENT_SESSION.idFromName(`members-${name}`)), (_i, state) => {
    const statements: string[] = [];
    const sql = state.storage.sql;
    const counted = {
      exec: (query: string, ...bindings: unknown[]) => {
        statements.push(query.split(" ")[0]!);
        return sql.exec(query, ...bindings);
      },
    } as SqlStorage;
    return work(counted, statements);
  });

describe("MemberTable", () => {
  it("spares a member registered again after a fan-out read its generation", () =>
    inStorage("race", (sql) => {
      const members = new MemberTable(sql);
      members.add(["a", "b"], 1);
      const fanout = members.generation;
      members.add(["a"], 2); // a was purged and came back while the fan-out ran
      members.removeGone(["a", "b"], fanout);
      expect(members.ids()).toEqual(["a"]);
      expect(new MemberTable(sql).ids()).toEqual(["a"]);
    }));

  it("spares it in a new instance too (a restart): what it finds listed counts as older than any fan-out", () =>
    inStorage("restart", (sql) => {
      new MemberTable(sql).add(["a", "b", "c"], 1);
      const after = new MemberTable(sql);
      const fanout = after.generation;
      after.add(["b"], 2);
      after.removeGone(["a", "b", "z"], fanout);
      expect(after.ids().sort()).toEqual(["b", "c"]);
      expect(new MemberTable(sql).ids().sort()).toEqual(["b", "c"]);
    }));

  it("writes nothing when a listed member registers again, or an unlisted one is removed", () =>
    inStorage("no-writes", (sql, statements) => {
      const members = new MemberTable(sql);
      members.add(["a"], 1);
      statements.length = 0;
      members.add(["a"], 2);
      expect(members.remove(["nobody"])).toBe(0);
      expect(statements).toEqual([]);
      expect(members.remove(["a"])).toBe(1);
      expect(statements).toEqual(["DELETE"]);
    }));

  it("parks who asked, unless they registered again since the fan-out began; a registration unparks", () =>
    inStorage("park", (sql) => {
      const members = new MemberTable(sql);
      members.add(["a", "b", "c"], 1);
      const fanout = members.generation;
      members.add(["b"], 2); // b reconnected while the fan-out ran: its `parked` answer is old news
      members.park(["a", "b"], fanout, 1_000);
      expect(members.reachable(1_000, 60_000).sort()).toEqual(["b", "c"]);
      expect(members.parkedCount).toBe(1);
      expect(members.count).toBe(3);
      members.add(["a"], 3);
      expect(members.reachable(1_000, 60_000).sort()).toEqual(["a", "b", "c"]);
    }));

  it("probes a member parked for the probe time again, and forgets parking with the member", () =>
    inStorage("probe", (sql) => {
      const members = new MemberTable(sql);
      members.add(["a", "b"], 1);
      members.park(["a", "b"], members.generation, 1_000);
      expect(members.reachable(60_999, 60_000)).toEqual([]);
      expect(members.reachable(61_000, 60_000).sort()).toEqual(["a", "b"]);
      members.remove(["a"]);
      members.removeGone(["b"], members.generation);
      expect(members.parkedCount).toBe(0);
      expect(members.count).toBe(0);
    }));
});

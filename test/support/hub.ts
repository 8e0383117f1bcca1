import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import type { Currency } from "../../src/protocol";
import { readLayout } from "../../src/relay/shard-layout";
import type { SessionRecord } from "../../src/session/session-state";
import { HUB_NAME } from "../../src/stubs";

export const hub = () => env.PRICE_HUB.get(env.PRICE_HUB.idFromName(HUB_NAME));
export const sessionStub = (clientId: string) => env.CLIENT_SESSION.get(env.CLIENT_SESSION.idFromName(clientId));

let usd = 90_000;

/** Publishes a tick through the hub with every price moved (or only the given ones). */
export async function publishTick(prices?: Partial<Record<Currency, number>>) {
  usd += 1.5;
  const tick = await hub().publish(prices ?? { USD: usd, EUR: round(usd * 0.92), GBP: round(usd * 0.79) }, ["test"]);
  if (!tick) throw new Error("publish produced no tick: prices did not change");
  return tick;
}

const round = (n: number) => Math.round(n * 100) / 100;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the hub's own first poll (armed when it is first woken) has finished; the next one
 * is an interval away (an hour in tests). For tests that must not have a poll run between their steps.
 */
export async function settledHub() {
  const stub = hub();
  for (let i = 0; i < 500 && (await stub.health()).last_poll === null; i++) await sleep(20);
  if ((await stub.health()).last_poll === null) throw new Error("the hub's first poll did not finish");
  return stub;
}

/** A shard of the fan-out tree by its prefix (the root is ""), typed by its class for tests. */
export const shard = (prefix = "") => env.FANOUT_SHARD.get(env.FANOUT_SHARD.idFromName(`shard:${prefix}`));

/** A session's stored record (null once purged). */
export const recordOf = (clientId: string) =>
  runInDurableObject(sessionStub(clientId), (_i, state) => state.storage.kv.get<SessionRecord>("session") ?? null);

/** The members a shard lists. */
export const membersOf = (prefix: string) =>
  runInDurableObject(shard(prefix), (_i, state) => {
    const exists = state.storage.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'members'")
      .one().n;
    if (!exists) return [] as string[];
    return state.storage.sql
      .exec<{ client_id: string }>("SELECT client_id FROM members ORDER BY client_id")
      .toArray()
      .map((r) => r.client_id);
  });

/** Every client id some shard lists, with the shard, walking the tree from the root. */
export async function registrations(): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const walk = async (prefix: string): Promise<void> => {
    for (const id of await membersOf(prefix)) found.set(id, [...(found.get(id) ?? []), prefix]);
    const layout = await runInDurableObject(shard(prefix), (_i, state) => readLayout(state.storage.kv));
    await Promise.all(layout.children.map((digit) => walk(prefix + digit)));
  };
  await walk("");
  return found;
}

/**
 * Wipes an object's storage and drops its instance, as a lost disk would: what it kept in memory goes
 * too. (The pool's evictDurableObject is the restart; this is the restart of an object with no storage.)
 */
export async function wipe(stub: DurableObjectStub) {
  await runInDurableObject(stub, (_i, state) => state.storage.deleteAll());
  await evictDurableObject(stub);
}

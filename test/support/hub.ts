import { env } from "cloudflare:test";
import type { Currency } from "../../src/protocol";
import { hubStub } from "../../src/stubs";

export const hub = () => hubStub(env);
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

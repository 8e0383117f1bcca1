/** Every stub to an object is built here, typed by its contract (src/contracts.ts). */
import type { HubApi, RelayApi, SessionApi } from "./contracts";

/** The one hub: it polls upstream, keeps the history and the subscriber list. */
export const HUB_NAME = "global";

/** The hub as the Worker's HTTP side sees it: every public method (health, history, …). */
export const hubStub = (env: Env) => env.PRICE_HUB.get(env.PRICE_HUB.idFromName(HUB_NAME));

/** The hub as a session sees it. */
export const hubApi = (env: Env): DurableObjectStub<HubApi> => hubStub(env);

/** One session object per client_id. */
export const sessionStub = (env: Env, clientId: string): DurableObjectStub<SessionApi> =>
  env.CLIENT_SESSION.get(env.CLIENT_SESSION.idFromName(clientId));

export const relayStub = (env: Env, index: number): DurableObjectStub<RelayApi> =>
  env.FANOUT_RELAY.get(env.FANOUT_RELAY.idFromName(`relay-${index}`));

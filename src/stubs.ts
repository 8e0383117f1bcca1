/** Every stub to an object is built here, typed by its contract (src/contracts.ts), never by its class. */
import type { HubApi, HubHttpApi, SessionApi, ShardApi } from "./contracts";

/** The one hub: it polls upstream, keeps the history and hands each event to the root shard. */
export const HUB_NAME = "global";

const hub = (env: Env) => env.PRICE_HUB.get(env.PRICE_HUB.idFromName(HUB_NAME));

/** The hub as the root shard and the cron trigger see it. */
export const hubApi = (env: Env): DurableObjectStub<HubApi> => hub(env);

/** The hub as the Worker's HTTP side sees it: reads only, each behind the edge cache. */
export const hubHttp = (env: Env): DurableObjectStub<HubHttpApi> => hub(env);

/** One session object per client_id. */
export const sessionStub = (env: Env, clientId: string): DurableObjectStub<SessionApi> =>
  env.CLIENT_SESSION.get(env.CLIENT_SESSION.idFromName(clientId));

/** A shard of the fan-out tree, by its prefix (src/relay/topology.ts); the root is "". */
export const shardStub = (env: Env, prefix: string): DurableObjectStub<ShardApi> =>
  env.FANOUT_SHARD.get(env.FANOUT_SHARD.idFromName(`shard:${prefix}`));

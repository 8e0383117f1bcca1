import { hubApi } from "./stubs";
import { router } from "./http/router";

export { ClientSession } from "./session/ClientSession";
export { PriceHub } from "./hub/PriceHub";
export { FanoutShard } from "./relay/FanoutShard";

export default {
  fetch: (request, env, ctx) => router.fetch(request, env, ctx),
  // Cron watchdog: the hub's own alarms give the cadence; this only re-arms them if they stopped.
  scheduled: (_controller, env, ctx) => ctx.waitUntil(hubApi(env).ensureRunning()),
} satisfies ExportedHandler<Env>;

import type { Env } from "../config";
import { HUB_NAME } from "../hub/PriceHub";

export const hubStub = (env: Env) => env.PRICE_HUB.get(env.PRICE_HUB.idFromName(HUB_NAME));

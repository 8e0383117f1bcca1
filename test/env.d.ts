import type { Env as AppEnv } from "../src/config";

declare global {
  namespace Cloudflare {
    interface Env extends AppEnv {}
    interface GlobalProps {
      mainModule: typeof import("../src/index");
      durableNamespaces: "PriceHub" | "ClientSession" | "FanoutRelay";
    }
  }
}

import { Router, type IRequest } from "itty-router";
import { log } from "../shared/log";
import { handleCandles, handleHealth, handleHistory, handlePrice } from "./api";
import { servePage } from "./page";
import { handlePricefeed } from "./pricefeed";
import { rateLimited } from "./rate-limit";
import { CORS_HEADERS, errorResponse } from "../shared/responses";

type Args = [Env, ExecutionContext];

/** Rate-limit period of the [[ratelimits]] bindings in wrangler.toml, for Retry-After. */
const LIMIT_PERIOD_S = 60;

const KNOWN_PATHS = new Set(["/", "/home", "/pricefeed", "/api/price", "/api/history", "/api/candles", "/health"]);

export const router = Router<IRequest, Args>({
  catch: (error: unknown) => {
    log("request_failed", { error: String(error) });
    return errorResponse(500, { code: "internal_error", message: "internal error" });
  },
});

router
  .get(
    "/pricefeed",
    async (req, env) => (await rateLimited(env.UPGRADE_LIMITER, req, LIMIT_PERIOD_S)) ?? handlePricefeed(req, env),
  )
  .options("/api/*", () => new Response(null, { status: 204, headers: CORS_HEADERS }))
  .all("/api/*", async (req, env) => rateLimited(env.API_LIMITER, req, LIMIT_PERIOD_S))
  .get("/api/price", (req, env, ctx) => handlePrice(req, env, ctx))
  .get("/api/history", (req, env, ctx) => handleHistory(req, env, ctx))
  .get("/api/candles", (req, env, ctx) => handleCandles(req, env, ctx))
  .get(
    "/health",
    async (req, env, ctx) => (await rateLimited(env.API_LIMITER, req, LIMIT_PERIOD_S)) ?? handleHealth(req, env, ctx),
  )
  .all("*", (req) => servePage(req))
  .all("*", (req) => {
    const path = new URL(req.url).pathname;
    if (KNOWN_PATHS.has(path)) {
      return errorResponse(
        405,
        { code: "method_not_allowed", message: `${req.method} is not allowed on ${path}` },
        { Allow: "GET" },
      );
    }
    return errorResponse(404, { code: "not_found", message: `no route for ${path}` });
  });

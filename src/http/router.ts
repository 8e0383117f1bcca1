import { Router, type IRequest } from "itty-router";
import { log } from "../shared/log";
import { CORS_HEADERS, errorResponse } from "../shared/responses";
import { addressKey, clientIp } from "../limits/address";
import { handleCandles, handleHealth, handleHistory, handlePrice } from "./api";
import { servePage } from "./page";
import { handlePricefeed } from "./pricefeed";
import { API_READS, rateLimited } from "../limits/rate-limit";

type Args = [Env, ExecutionContext];

const apiLimited = (req: Request, env: Env) => rateLimited(API_READS, env, addressKey(clientIp(req)));

const KNOWN_PATHS = new Set(["/", "/home", "/pricefeed", "/api/price", "/api/history", "/api/candles", "/health"]);

export const router = Router<IRequest, Args>({
  catch: (error: unknown) => {
    log("request_failed", { error: String(error) });
    return errorResponse(500, { code: "internal_error", message: "internal error" });
  },
});

router
  .get("/pricefeed", (req, env) => handlePricefeed(req, env))
  .options("/api/*", () => new Response(null, { status: 204, headers: CORS_HEADERS }))
  .all("/api/*", (req, env) => apiLimited(req, env))
  .get("/api/price", (req, env, ctx) => handlePrice(req, env, ctx))
  .get("/api/history", (req, env, ctx) => handleHistory(req, env, ctx))
  .get("/api/candles", (req, env, ctx) => handleCandles(req, env, ctx))
  .get("/health", async (req, env, ctx) => (await apiLimited(req, env)) ?? handleHealth(req, env, ctx))
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

/**
 * The Worker's rate limits, one Rate Limiting binding each (`[[ratelimits]]` in wrangler.toml,
 * where the counts live; docs/operations.md "Limits" says what a client meets and does). Each
 * limit here names its binding, its period as configured there (for Retry-After) and its 429.
 */
import { errorResponse } from "../shared/responses";

export interface Limit {
  limiter: (env: Env) => RateLimit;
  /** The binding's `period`: a refused client may retry after it at the latest. */
  periodS: number;
  /** Says what was counted, for the 429's message. */
  what: string;
}

/** The 429 a client meets at a limit: Retry-After and the JSON error saying which limit. */
export function tooMany(what: string, retryAfterS: number): Response {
  return errorResponse(
    429,
    { code: "rate_limited", message: `${what}; retry in ${retryAfterS} s` },
    { "Retry-After": String(retryAfterS) },
  );
}

/** Upgrades that start a new session (no `client_id`, or one no session holds), per address (/64 for IPv6). */
export const NEW_SESSIONS: Limit = {
  limiter: (env) => env.NEW_SESSION_LIMITER,
  periodS: 60,
  what: "too many new sessions from this address",
};

/** `/api/*` and `/health`, one budget per address (/64 for IPv6). */
export const API_READS: Limit = {
  limiter: (env) => env.API_LIMITER,
  periodS: 60,
  what: "too many requests from this address",
};

/**
 * Counts one request against `limit` under `key`. Over the limit → 429 with Retry-After and the
 * JSON error; a limiter that errors lets the request through (availability over strictness).
 */
export async function rateLimited(limit: Limit, env: Env, key: string): Promise<Response | null> {
  try {
    const { success } = await limit.limiter(env).limit({ key });
    if (success) return null;
  } catch {
    return null;
  }
  return tooMany(limit.what, limit.periodS);
}

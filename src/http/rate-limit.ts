import { errorResponse } from "../shared/responses";

export function clientIp(request: Request): string {
  return request.headers.get("CF-Connecting-IP") ?? "unknown";
}

/**
 * Asks a Rate Limiting binding about this caller. Over the limit → 429 with Retry-After;
 * a limiter that errors lets the request through (availability over strictness).
 */
export async function rateLimited(limiter: RateLimit, request: Request, periodS: number): Promise<Response | null> {
  try {
    const { success } = await limiter.limit({ key: clientIp(request) });
    if (success) return null;
  } catch {
    return null;
  }
  return errorResponse(
    429,
    { code: "rate_limited", message: `too many requests from this address; retry in ${periodS} s` },
    { "Retry-After": String(periodS) },
  );
}

import type { ErrorCode, ProtocolError } from "../protocol";

/** The API is public read-only data: any origin may read it, no credentials involved. */
export const CORS_HEADERS: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, OPTIONS",
  "Access-Control-Allow-Headers": "Content-Type",
  "Access-Control-Max-Age": "86400",
};

export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(data, {
    status,
    headers: { "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", ...CORS_HEADERS, ...headers },
  });
}

export function errorResponse(
  status: number,
  error: ProtocolError | { code: ErrorCode; message: string },
  headers: Record<string, string> = {},
): Response {
  return json({ error: { code: error.code, message: error.message } }, status, headers);
}

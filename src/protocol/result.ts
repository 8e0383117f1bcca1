/**
 * Error codes a client can see, in HTTP bodies and in `error` frames. docs/openapi.yaml and
 * docs/asyncapi.yaml list the same codes (a test compares them).
 */
export const ERROR_CODES = [
  "invalid_client_id",
  "invalid_currencies",
  "unsupported_currency",
  "invalid_start_timedate",
  "invalid_last_seq",
  "invalid_epoch",
  "invalid_parameter",
  "invalid_interval",
  "upgrade_required",
  "not_found",
  "method_not_allowed",
  "rate_limited",
  "too_many_sockets",
  "invalid_frame",
  "frame_too_large",
  "binary_not_supported",
  "unknown_type",
  "too_many_frames",
  "no_price_yet",
  "unavailable",
  "internal_error",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ProtocolError {
  code: ErrorCode;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(code: ErrorCode, message: string): Result<T> => ({
  ok: false,
  error: { code, message },
});

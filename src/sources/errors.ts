/** Why a source could not give a price. `stale`: the upstream answered, but dated its quote too long ago. */
export type SourceErrorKind = "http" | "timeout" | "network" | "parse" | "upstream" | "rate_limited" | "stale";

export interface SourceErrorDetails {
  status?: number;
  retryAfterMs?: number;
  cause?: unknown;
}

const MAX_MESSAGE_LENGTH = 160;

/** Anything that kept a source from giving a usable price. Messages are short and safe to log and show in /health. */
export class SourceError extends Error {
  readonly kind: SourceErrorKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(kind: SourceErrorKind, message: string, details: SourceErrorDetails = {}) {
    super(shorten(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "SourceError";
    this.kind = kind;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

function shorten(message: string): string {
  const oneLine = message.replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_MESSAGE_LENGTH ? `${oneLine.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : oneLine;
}

export function parseError(message: string): SourceError {
  return new SourceError("parse", message);
}

/**
 * Turns whatever a fetch or a parser threw into a SourceError. An abort of the poll's signal is a
 * timeout whatever the runtime calls it; any other thrown TypeError or DOMException is a network failure.
 */
export function toSourceError(err: unknown, signal?: AbortSignal): SourceError {
  if (err instanceof SourceError) return err;
  if (signal?.aborted || isAbortLike(err)) {
    return new SourceError("timeout", "no answer within the poll's time budget", { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new SourceError("network", message || "network error", { cause: err });
}

function isAbortLike(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
}

/** Worth another attempt within the same poll: the failure says nothing about the next answer. */
export function isRetryable(err: SourceError): boolean {
  if (err.retryAfterMs !== undefined) return false;
  if (err.kind === "network") return true;
  if (err.kind === "http") return err.status === 408 || (err.status !== undefined && err.status >= 500);
  return false;
}

/** Retry-After is either delta-seconds or an HTTP date; anything else is ignored. */
export function parseRetryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // HTTP dates start with the day's name; this also keeps Date.parse from reading "-5" as a year.
  const at = /^[A-Za-z]/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

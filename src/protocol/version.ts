/**
 * The wire protocol's version, `MAJOR.MINOR`, sent in every `welcome` (and the `info.version` of
 * docs/asyncapi.yaml).
 *
 * - A minor version only adds: a frame type, an optional field, a query parameter, an error code.
 *   A client of the same major version ignores what it does not know and keeps working.
 * - A major version changes what something already there means (a field's meaning or type, the
 *   seq and resume rules). A client that does not know the major version cannot tell which of its
 *   promises still hold: it must not go on interpreting frames (the client library closes the feed
 *   with reason `unsupported_protocol` and does not reconnect).
 */
export const PROTOCOL_VERSION = "1.0";

/**
 * What a `welcome` without a `protocol` field means: servers from before the field was added
 * spoke what is now 1.0.
 */
export const UNVERSIONED_PROTOCOL = "1.0";

const VERSION_PATTERN = /^(\d{1,6})\.(\d{1,6})$/;

/** The major version of `MAJOR.MINOR`, or null for anything else. */
export function protocolMajor(version: string): number | null {
  const match = VERSION_PATTERN.exec(version);
  return match ? Number(match[1]) : null;
}

/** A client built for PROTOCOL_VERSION can follow a server speaking `version`: same major, any minor. */
export function isCompatibleProtocol(version: string): boolean {
  const major = protocolMajor(version);
  return major !== null && major === protocolMajor(PROTOCOL_VERSION);
}

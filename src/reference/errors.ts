import { FerryError } from '../errors.js';

/**
 * Every error code raised by `src/reference`. Parse errors carry status 400
 * (the reference came from a user or a manifest) and `details.reason`, the
 * exact message Docker's distribution/reference gives for the same input.
 */
export const REFERENCE_ERROR_CODES = {
  /** Does not match the reference grammar at all ("invalid reference format"). */
  INVALID_FORMAT: 'FERRY_ERR_REFERENCE_INVALID_FORMAT',
  /** Uppercase letters in the repository path ("repository name must be lowercase"). */
  UPPERCASE: 'FERRY_ERR_REFERENCE_UPPERCASE',
  /** Repository path longer than 255 characters. */
  NAME_TOO_LONG: 'FERRY_ERR_REFERENCE_NAME_TOO_LONG',
  /** A bare 64-character hex string (an image ID) where a name was expected. */
  HEX_NAME: 'FERRY_ERR_REFERENCE_HEX_NAME',
  /** Digest hex part not lowercase hex. */
  DIGEST_FORMAT: 'FERRY_ERR_REFERENCE_DIGEST_FORMAT',
  /** Digest hex part of the wrong length for its algorithm. */
  DIGEST_LENGTH: 'FERRY_ERR_REFERENCE_DIGEST_LENGTH',
  /** Digest algorithm other than sha256, sha384, sha512. */
  DIGEST_UNSUPPORTED: 'FERRY_ERR_REFERENCE_DIGEST_UNSUPPORTED',
  /** `mirror.registry` / `mirror.prefix` cannot form a mirror reference. */
  MIRROR_CONFIG: 'FERRY_ERR_REFERENCE_MIRROR_CONFIG',
  /** The mirrored name would exceed 255 characters. */
  MIRROR_TOO_LONG: 'FERRY_ERR_REFERENCE_MIRROR_TOO_LONG',
  /** The reference has no registry host to mirror from (Docker parses it with an empty domain). */
  MIRROR_NO_HOST: 'FERRY_ERR_REFERENCE_MIRROR_NO_HOST',
} as const;

export type ReferenceErrorCode = (typeof REFERENCE_ERROR_CODES)[keyof typeof REFERENCE_ERROR_CODES];

const HINTS: Record<ReferenceErrorCode, string> = {
  FERRY_ERR_REFERENCE_INVALID_FORMAT:
    'use [registry[:port]/]path[:tag][@algorithm:hex], e.g. "nginx:1.27" or "ghcr.io/org/app@sha256:<64 hex>"; ' +
    'path components are lowercase letters and digits joined by ".", "_", "__" or dashes',
  FERRY_ERR_REFERENCE_UPPERCASE:
    'write the repository path in lowercase; only the registry host and the tag may contain uppercase letters',
  FERRY_ERR_REFERENCE_NAME_TOO_LONG: 'shorten the repository path: it may have at most 255 characters',
  FERRY_ERR_REFERENCE_HEX_NAME:
    'a bare 64-character hex string is an image ID, not a name; use "name@sha256:<hex>" to pin a digest',
  FERRY_ERR_REFERENCE_DIGEST_FORMAT: 'write the digest as <algorithm>:<lowercase hex>, e.g. sha256:<64 hex characters>',
  FERRY_ERR_REFERENCE_DIGEST_LENGTH: 'a sha256 digest has 64 hex characters, sha384 96, sha512 128',
  FERRY_ERR_REFERENCE_DIGEST_UNSUPPORTED: 'use a sha256, sha384 or sha512 digest',
  FERRY_ERR_REFERENCE_MIRROR_CONFIG:
    'set mirror.registry to a host[:port] (with a "." or ":", or "localhost") and mirror.prefix to lowercase path components',
  FERRY_ERR_REFERENCE_MIRROR_TOO_LONG:
    'the mirrored name <registry>/<prefix>/<host>/<path> must stay within 255 characters: shorten mirror.prefix, or exclude this image',
  FERRY_ERR_REFERENCE_MIRROR_NO_HOST:
    'the first path component looks like a host but is not a valid one; write the registry host explicitly',
};

/** Longest slice of the offending input quoted in a message. */
const QUOTE_MAX = 300;

export function referenceError(
  code: ReferenceErrorCode,
  input: string,
  reason: string,
  extra?: Record<string, unknown>,
): FerryError {
  const quoted = input.length > QUOTE_MAX ? `${input.slice(0, QUOTE_MAX)}…` : input;
  return new FerryError(code, `invalid image reference ${JSON.stringify(quoted)}: ${reason}`, {
    hint: HINTS[code],
    status: 400,
    details: { reference: quoted, reason, ...extra },
  });
}

export function mirrorError(code: ReferenceErrorCode, message: string, details: Record<string, unknown>): FerryError {
  return new FerryError(code, message, {
    hint: HINTS[code],
    status: code === REFERENCE_ERROR_CODES.MIRROR_CONFIG ? 500 : 400,
    details,
  });
}

import { defineErrors, type FerryError } from '../errors.js';

/**
 * Every error code raised by `src/reference`. Parse errors carry status 400
 * (the reference came from a user or a manifest) and `details.reason`, the
 * exact message Docker's distribution/reference gives for the same input.
 * An unusable mirror config is ferry's own fault, hence 500.
 */
export const REFERENCE_ERROR_TABLE = defineErrors('REFERENCE', {
  INVALID_FORMAT: {
    status: 400,
    meaning: 'the reference does not match the reference grammar at all ("invalid reference format")',
    hint:
      'use [registry[:port]/]path[:tag][@algorithm:hex], e.g. "nginx:1.27" or "ghcr.io/org/app@sha256:<64 hex>"; ' +
      'path components are lowercase letters and digits joined by ".", "_", "__" or dashes',
  },
  UPPERCASE: {
    status: 400,
    meaning: 'uppercase letters in the repository path ("repository name must be lowercase")',
    hint: 'write the repository path in lowercase; only the registry host and the tag may contain uppercase letters',
  },
  NAME_TOO_LONG: { status: 400, meaning: 'the repository path is longer than 255 characters', hint: 'shorten the repository path: it may have at most 255 characters' },
  HEX_NAME: {
    status: 400,
    meaning: 'a bare 64-character hex string (an image ID) where a name was expected',
    hint: 'a bare 64-character hex string is an image ID, not a name; use "name@sha256:<hex>" to pin a digest',
  },
  DIGEST_FORMAT: { status: 400, meaning: 'the hex part of the digest is not lowercase hex', hint: 'write the digest as <algorithm>:<lowercase hex>, e.g. sha256:<64 hex characters>' },
  DIGEST_LENGTH: { status: 400, meaning: 'the hex part of the digest has the wrong length for its algorithm', hint: 'a sha256 digest has 64 hex characters, sha384 96, sha512 128' },
  DIGEST_UNSUPPORTED: { status: 400, meaning: 'a digest algorithm other than sha256, sha384 or sha512', hint: 'use a sha256, sha384 or sha512 digest' },
  MIRROR_CONFIG: {
    status: 500,
    meaning: '`mirror.registry` / `mirror.prefix` cannot form a mirror reference',
    hint: 'set mirror.registry to a host[:port] (with a "." or ":", or "localhost") and mirror.prefix to lowercase path components',
  },
  MIRROR_TOO_LONG: {
    status: 400,
    meaning: 'the mirrored name would exceed 255 characters',
    hint: 'the mirrored name <registry>/<prefix>/<host>/<path> must stay within 255 characters: shorten mirror.prefix, or exclude this image',
  },
  MIRROR_NO_HOST: {
    status: 400,
    meaning: 'the reference has no registry host to mirror from (Docker parses it with an empty domain)',
    hint: 'the first path component looks like a host but is not a valid one; write the registry host explicitly',
  },
});

const TABLE = REFERENCE_ERROR_TABLE;

/** kind -> `FERRY_ERR_REFERENCE_<kind>` */
export const REFERENCE_ERROR_CODES = TABLE.codes;

export type ReferenceErrorCode = (typeof REFERENCE_ERROR_CODES)[keyof typeof REFERENCE_ERROR_CODES];

/** Longest slice of the offending input quoted in a message. */
const QUOTE_MAX = 300;

function kindOf(code: ReferenceErrorCode): keyof typeof TABLE.specs {
  // Every ReferenceErrorCode is one of the table's, so the lookup cannot miss.
  return TABLE.kindOf(code)!;
}

export function referenceError(
  code: ReferenceErrorCode,
  input: string,
  reason: string,
  extra?: Record<string, unknown>,
): FerryError {
  const quoted = input.length > QUOTE_MAX ? `${input.slice(0, QUOTE_MAX)}…` : input;
  return TABLE.create(kindOf(code), `invalid image reference ${JSON.stringify(quoted)}: ${reason}`, {
    // Always 400, whatever the code's own status: the reference came from a user or a manifest.
    status: 400,
    details: { reference: quoted, reason, ...extra },
  });
}

export function mirrorError(code: ReferenceErrorCode, message: string, details: Record<string, unknown>): FerryError {
  return TABLE.create(kindOf(code), message, { details });
}

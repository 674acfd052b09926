/**
 * Image references: parse/normalize exactly as Docker does, and map upstream
 * references to mirror paths and back. Pure: no I/O.
 */
export {
  type ImageReference,
  type DigestReference,
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  NAME_MAX_LENGTH,
  parseReference,
  tryParseReference,
  parseAnyReference,
  isNamedReference,
  formatReference,
  familiarName,
  repositoryOf,
  repositoryOfRef,
  normalizeReference,
  clearReferenceCache,
} from './parse.js';
export {
  type MirrorOptions,
  toMirrorReference,
  toMirrorImageReference,
  tryToMirrorReference,
  fromMirrorReference,
  fromMirrorImageReference,
  isMirrorReference,
  encodeHost,
  decodeHost,
} from './mirror.js';
export { REFERENCE_ERROR_CODES, type ReferenceErrorCode } from './errors.js';

/**
 * The import error table (`FERRY_ERR_IMPORT_<WHAT>`): one entry per kind with
 * a hint and whether trying the same file again may succeed.
 *
 * Permanent errors (the archive itself is bad) are not retried until the file
 * changes; transient ones (the mirror is down, the file moved under us) are
 * retried with backoff by the watcher. A bad archive is a 422 to an API
 * caller, a failed push a 502.
 */
import { defineErrors, isFerryError, type FerryError } from '../errors.js';

export const IMPORT_ERROR_TABLE = defineErrors('IMPORT', {
  NOT_AN_ARCHIVE: {
    transient: false,
    status: 422,
    meaning: 'the file is not a tar archive, plain, gzip- or zstd-compressed',
    hint: 'drop a tar (or tar.gz / tar.zst) made by `docker save` or `skopeo copy ... docker-archive:|oci-archive:`',
  },
  UNSUPPORTED_COMPRESSION: {
    transient: false,
    status: 422,
    meaning: 'the archive is compressed with something other than gzip or zstd (xz, bzip2), or is a zstd frame asking for a window over 128 MiB',
    hint: 'only plain, gzip- and zstd-compressed archives are read; decompress it (e.g. `xz -d`) or re-compress with gzip or zstd (without --long over 27)',
  },
  TRUNCATED: {
    transient: false,
    status: 422,
    meaning: 'the archive (or its gzip / zstd stream) ends early',
    hint: 'the archive ends early (interrupted copy or save?); write it again, ideally under a temporary name renamed into place when done',
  },
  CORRUPT: {
    transient: false,
    status: 422,
    meaning: 'the archive is damaged or inconsistent: bad tar headers, checksums, digests or JSON',
    hint: 'the archive is damaged or inconsistent (checksum, digest or JSON errors); export the image again',
  },
  UNSAFE_ENTRY: {
    transient: false,
    status: 422,
    meaning: 'an entry with an absolute path, a `..` component or a link leaving the archive',
    hint: 'the archive has entries with absolute paths, `..` components or links leaving the archive; ferry refuses it: export the image again with docker save/skopeo',
  },
  UNKNOWN_FORMAT: {
    transient: false,
    status: 422,
    meaning: 'a tar that is neither a docker-archive nor an OCI archive',
    hint: 'a tar without manifest.json (docker-archive) or index.json + oci-layout (oci-archive) at its root is not an image archive',
  },
  MISSING_ENTRY: {
    transient: false,
    status: 422,
    meaning: 'the archive references a file or blob it does not contain',
    hint: 'the archive references a file or blob it does not contain; export the image again (for an index, with all platforms: skopeo copy --all)',
  },
  UNSUPPORTED: { transient: false, status: 422, meaning: 'an image format other than Docker schema2 or OCI', hint: 'ferry imports Docker schema2 and OCI images only' },
  TOO_LARGE: {
    transient: false,
    status: 422,
    meaning: 'a metadata entry (manifest, config, index) over what ferry reads into memory',
    hint: 'a metadata entry (manifest, config, index) is larger than ferry reads into memory (4 MiB each, 64 MiB in total)',
  },
  CHANGED: {
    transient: true,
    status: 422,
    meaning: 'the file changed or disappeared while it was imported',
    hint: 'the file changed while it was imported; it is imported again once it is stable',
  },
  PUSH: { transient: true, status: 502, meaning: 'pushing to the mirror failed (or an unexpected error)', hint: 'pushing to the mirror failed; ferry retries the file with backoff' },
  ABORTED: { transient: true, status: 422, meaning: 'the import was cancelled (shutdown)', hint: 'the import was cancelled (shutdown); it runs again at the next start' },
});

export type ImportErrorKind = keyof typeof IMPORT_ERROR_TABLE.specs;
/** kind -> { transient, status, meaning, hint } */
export const IMPORT_ERRORS = IMPORT_ERROR_TABLE.specs;

export const importCode = (k: ImportErrorKind): string => IMPORT_ERROR_TABLE.code(k);

export function importError(kind: ImportErrorKind, message: string, opts: { cause?: unknown; transient?: boolean; details?: Record<string, unknown> } = {}): FerryError {
  return IMPORT_ERROR_TABLE.create(kind, message, {
    ...(opts.transient !== undefined ? { transient: opts.transient } : {}),
    ...(opts.cause !== undefined ? { cause: opts.cause } : {}),
    ...(opts.details ? { details: opts.details } : {}),
  });
}

/** Is this one of ours, of the given kind? */
export function isImportError(e: unknown, kind?: ImportErrorKind): e is FerryError {
  return IMPORT_ERROR_TABLE.is(e, kind);
}

/**
 * Any failure of an import as a FerryError: ours as they are, registry errors
 * (FERRY_ERR_REGISTRY_*) kept with their own code and transient flag, anything
 * else (a bug, an fs error) as a transient PUSH failure naming its message.
 */
export function asImportFailure(e: unknown): FerryError {
  if (isFerryError(e)) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown })?.code;
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(msg)) {
    return importError(/unexpected end/i.test(msg) || code === 'Z_BUF_ERROR' ? 'TRUNCATED' : 'CORRUPT', `gzip stream: ${msg}`, { cause: e });
  }
  if (/Unexpected end of data/.test(msg)) return importError('TRUNCATED', `tar stream: ${msg}`, { cause: e });
  if (/Invalid tar header|Header exceeds max size/.test(msg)) return importError('CORRUPT', `tar stream: ${msg}`, { cause: e });
  if (code === 'ENOENT') return importError('CHANGED', `file disappeared: ${msg}`, { cause: e });
  if (e instanceof Error && e.name === 'AbortError') return importError('ABORTED', msg, { cause: e });
  return importError('PUSH', msg, { cause: e });
}

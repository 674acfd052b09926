/**
 * The import error table. `src/errors.ts` holds no FERRY_ERR_IMPORT_* codes
 * yet, so they live here, in the same shape as the registry table: one entry
 * per kind with a hint and whether trying the same file again may succeed.
 *
 * Permanent errors (the archive itself is bad) are not retried until the file
 * changes; transient ones (the mirror is down, the file moved under us) are
 * retried with backoff by the watcher.
 */
import { FerryError, isFerryError } from '../errors.js';

export type ImportErrorKind =
  | 'NOT_AN_ARCHIVE'
  | 'UNSUPPORTED_COMPRESSION'
  | 'TRUNCATED'
  | 'CORRUPT'
  | 'UNSAFE_ENTRY'
  | 'UNKNOWN_FORMAT'
  | 'MISSING_ENTRY'
  | 'UNSUPPORTED'
  | 'TOO_LARGE'
  | 'CHANGED'
  | 'PUSH'
  | 'ABORTED';

interface Entry {
  transient: boolean;
  hint: string;
}

export const IMPORT_ERRORS: Readonly<Record<ImportErrorKind, Entry>> = {
  NOT_AN_ARCHIVE: { transient: false, hint: 'drop a tar (or tar.gz) made by `docker save` or `skopeo copy ... docker-archive:|oci-archive:`' },
  UNSUPPORTED_COMPRESSION: { transient: false, hint: 'only plain and gzip-compressed archives are read; decompress it (e.g. `zstd -d`, `xz -d`) or re-compress with gzip' },
  TRUNCATED: { transient: false, hint: 'the archive ends early (interrupted copy or save?); write it again, ideally under a temporary name renamed into place when done' },
  CORRUPT: { transient: false, hint: 'the archive is damaged or inconsistent (checksum, digest or JSON errors); export the image again' },
  UNSAFE_ENTRY: { transient: false, hint: 'the archive has entries with absolute paths, `..` components or links leaving the archive; ferry refuses it: export the image again with docker save/skopeo' },
  UNKNOWN_FORMAT: { transient: false, hint: 'a tar without manifest.json (docker-archive) or index.json + oci-layout (oci-archive) at its root is not an image archive' },
  MISSING_ENTRY: { transient: false, hint: 'the archive references a file or blob it does not contain; export the image again (for an index, with all platforms: skopeo copy --all)' },
  UNSUPPORTED: { transient: false, hint: 'ferry imports Docker schema2 and OCI images only' },
  TOO_LARGE: { transient: false, hint: 'a metadata entry (manifest, config, index) is larger than ferry reads into memory (4 MiB each, 64 MiB in total)' },
  CHANGED: { transient: true, hint: 'the file changed while it was imported; it is imported again once it is stable' },
  PUSH: { transient: true, hint: 'pushing to the mirror failed; ferry retries the file with backoff' },
  ABORTED: { transient: true, hint: 'the import was cancelled (shutdown); it runs again at the next start' },
};

export const importCode = (k: ImportErrorKind): string => `FERRY_ERR_IMPORT_${k}`;

export function importError(kind: ImportErrorKind, message: string, opts: { cause?: unknown; transient?: boolean; details?: Record<string, unknown> } = {}): FerryError {
  const e = IMPORT_ERRORS[kind];
  return new FerryError(importCode(kind), message, {
    hint: e.hint,
    status: kind === 'PUSH' ? 502 : 422,
    transient: opts.transient ?? e.transient,
    ...(opts.cause !== undefined ? { cause: opts.cause } : {}),
    ...(opts.details ? { details: opts.details } : {}),
  });
}

/** Is this one of ours, of the given kind? */
export function isImportError(e: unknown, kind?: ImportErrorKind): e is FerryError {
  return isFerryError(e) && e.code.startsWith('FERRY_ERR_IMPORT_') && (kind === undefined || e.code === importCode(kind));
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

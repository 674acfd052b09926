/**
 * The engine's view of a reference: registry host, repository inside it,
 * tag and/or digest, built from src/reference's parse (Docker's grammar and
 * normalization, the one grammar ferry has: `nginx` ->
 * `docker.io/library/nginx:latest`, which is also what makes `ferry copy
 * nginx ...` work). References reaching the engine are usually normalized
 * already (`docker.io/library/nginx:1.27`, `mirror:5000/docker.io/library/nginx:1.27`).
 *
 * A reference the parser refuses, or one Docker parses with no registry host
 * (`foo_bar.com/x`), is FERRY_ERR_REGISTRY_BAD_REFERENCE: the engine's own
 * code for it, with the parser's error as the cause.
 */
import { FerryError } from '../errors.js';
import { DEFAULT_TAG, tryParseReference, type ImageReference } from '../reference/index.js';
import { REGISTRY_ERROR_CODES } from './errors.js';

export interface RegistryRef {
  /** Registry host as written in the reference (`docker.io`, `127.0.0.1:5000`): the reference's domain. */
  host: string;
  /** Repository path inside the registry (`library/nginx`). */
  repository: string;
  tag?: string;
  digest?: string;
}

function bad(ref: string, why: string, cause?: FerryError): FerryError {
  return new FerryError(REGISTRY_ERROR_CODES.BAD_REFERENCE, `invalid image reference "${ref}": ${why}`, {
    hint: 'use host/repository[:tag][@sha256:digest], e.g. docker.io/library/nginx:1.27',
    status: 400,
    transient: false,
    ...(cause ? { cause } : {}),
  });
}

function parsed(ref: string): ImageReference {
  const r = tryParseReference(ref);
  if (r instanceof Error) throw bad(ref, String(r.details?.reason ?? r.message), r);
  if (!r.domain) throw bad(ref, 'it names no registry host');
  return r;
}

/** `host/path[:tag][@digest]` -> the engine's view; neither tag nor digest means `latest`. */
export function splitRef(ref: string): RegistryRef {
  const r = parsed(ref);
  const out: RegistryRef = { host: r.domain, repository: r.path };
  if (r.tag) out.tag = r.tag;
  if (r.digest) out.digest = r.digest;
  if (!r.tag && !r.digest) out.tag = DEFAULT_TAG;
  return out;
}

/** `host/path` (e.g. the `repository` argument of listTags) -> host + repository. */
export function splitRepository(repo: string): { host: string; repository: string } {
  const r = parsed(repo);
  return { host: r.domain, repository: r.path };
}

export function formatRef(r: RegistryRef): string {
  return `${r.host}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** What goes after `/manifests/`: the digest when present (it wins), else the tag. */
export function manifestRefOf(r: RegistryRef): string {
  return r.digest ?? r.tag ?? 'latest';
}

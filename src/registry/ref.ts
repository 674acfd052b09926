/**
 * Minimal internal splitter for `host/path[:tag][@digest]`.
 *
 * References reaching the engine are already normalized by src/reference
 * (`docker.io/library/nginx:1.27`). As a convenience for the CLI, a name whose
 * first component is not a host gets Docker Hub defaults (`nginx` ->
 * `docker.io/library/nginx:latest`). No other grammar checks live here.
 */
import { FerryError } from '../errors.js';

export interface RegistryRef {
  /** Registry host as written in the reference (`docker.io`, `127.0.0.1:5000`). */
  host: string;
  /** Repository path inside the registry (`library/nginx`). */
  repository: string;
  tag?: string;
  digest?: string;
}

const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

function looksLikeHost(s: string): boolean {
  return s === 'localhost' || s.includes('.') || s.includes(':') || s.startsWith('[');
}

function bad(ref: string, why: string): FerryError {
  return new FerryError('FERRY_ERR_REGISTRY_BAD_REFERENCE', `invalid image reference "${ref}": ${why}`, {
    hint: 'use host/repository[:tag][@sha256:digest], e.g. docker.io/library/nginx:1.27',
    status: 400,
    transient: false,
  });
}

export function splitRef(ref: string): RegistryRef {
  let rest = ref.trim().replace(/^docker:\/\//, '');
  if (!rest) throw bad(ref, 'empty');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw bad(ref, `bad digest "${digest}"`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash && colon >= 0) {
    // a colon after the last slash is a tag, unless the whole thing is just "host:port"
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw bad(ref, `bad tag "${tag}"`);
  }
  const slash = rest.indexOf('/');
  let host: string;
  let repository: string;
  if (slash > 0 && looksLikeHost(rest.slice(0, slash))) {
    host = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
  } else {
    host = 'docker.io';
    repository = rest.includes('/') ? rest : `library/${rest}`;
  }
  if (host === 'index.docker.io') host = 'docker.io';
  if (!repository || repository.startsWith('/') || repository.endsWith('/') || repository.includes('//')) {
    throw bad(ref, 'missing repository path');
  }
  if (!/^[a-z0-9._/-]+$/.test(repository)) throw bad(ref, 'repository must be lowercase [a-z0-9._-/]');
  if (!tag && !digest) tag = 'latest';
  const out: RegistryRef = { host, repository };
  if (tag) out.tag = tag;
  if (digest) out.digest = digest;
  return out;
}

/** `host/path` (e.g. the `repository` argument of listTags) -> host + repository. */
export function splitRepository(repo: string): { host: string; repository: string } {
  const r = splitRef(repo.replace(/[@].*$/, ''));
  return { host: r.host, repository: r.repository };
}

export function formatRef(r: RegistryRef): string {
  return `${r.host}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** What goes after `/manifests/`: the digest when present (it wins), else the tag. */
export function manifestRefOf(r: RegistryRef): string {
  return r.digest ?? r.tag ?? 'latest';
}

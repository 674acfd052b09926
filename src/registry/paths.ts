/**
 * The only place `/v2/...` paths are built, and what may go into them.
 *
 * Digests and names reach these URLs from untrusted places: child and layer
 * descriptors of a fetched manifest, `Docker-Content-Digest` headers, tag
 * lists, callers. A `../`, `?` or `#` in any of them would change which
 * resource is asked for (or where), so every piece is checked against its
 * grammar before it is interpolated, and refused with a typed error naming
 * where it came from:
 *  - digest: OCI `algorithm:encoded`, and only algorithms ferry can verify:
 *    sha256 (64 lowercase hex) and sha512 (128 lowercase hex);
 *  - repository: distribution's path grammar (lowercase components joined by
 *    `/`, separators `.` `_` `__` `-+` inside a component), 255 characters
 *    at most;
 *  - tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
 */
import { registryError } from './errors.js';

/** Encoded length of each digest algorithm ferry verifies (Node's crypto has no blake3). */
export const DIGEST_ALGORITHMS: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const MAX_NAME = 255;

/** Why `d` is not a digest ferry may use, or undefined. */
export function digestProblem(d: unknown): string | undefined {
  if (typeof d !== 'string' || !d) return 'missing';
  const i = d.indexOf(':');
  if (i <= 0) return `"${printable(d)}" is not algorithm:hex`;
  const alg = d.slice(0, i);
  if (!Object.hasOwn(DIGEST_ALGORITHMS, alg)) return `algorithm "${printable(alg)}" is not sha256 or sha512 (ferry could not verify it)`;
  const len = DIGEST_ALGORITHMS[alg]!;
  const hex = d.slice(i + 1);
  if (hex.length !== len || !/^[0-9a-f]+$/.test(hex)) return `"${printable(d)}" is not ${alg}:<${len} lowercase hex>`;
  return undefined;
}

/** Why `r` is not a repository path, or undefined. */
export function repositoryProblem(r: unknown): string | undefined {
  if (typeof r !== 'string' || !r) return 'missing';
  if (r.length > MAX_NAME) return `longer than ${MAX_NAME} characters`;
  if (!REPOSITORY_RE.test(r)) return `"${printable(r)}" is not lowercase path components [a-z0-9] joined by "/" (separators . _ __ - inside)`;
  return undefined;
}

/** Why `t` is not a tag, or undefined. */
export function tagProblem(t: unknown): string | undefined {
  if (typeof t !== 'string' || !TAG_RE.test(t)) return `"${printable(String(t))}" is not a tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`;
  return undefined;
}

/** A hostile value, shortened and with control characters shown as `?`, for a message. */
function printable(s: string): string {
  const cut = s.length > 80 ? `${s.slice(0, 80)}…` : s;
  return cut.replace(/[^\x20-\x7e…]/g, '?');
}

type Repo = { host: string; repository: string };

/** Throws INVALID_DIGEST unless `digest` is valid; `from` says where it came from ("layer of sha256:..", "Docker-Content-Digest"). */
export function checkDigest(digest: unknown, r: Repo, from: string): string {
  const p = digestProblem(digest);
  if (p) throw registryError('INVALID_DIGEST', `digest from ${from} refused: ${p}`, { host: r.host, repository: r.repository, details: { from } });
  return digest as string;
}

/** Throws BAD_REFERENCE unless `r.repository` follows the distribution grammar. */
export function checkRepository(r: Repo): string {
  const p = repositoryProblem(r.repository);
  if (p) throw registryError('BAD_REFERENCE', `repository name refused: ${p}`, { host: r.host });
  return r.repository;
}

/** `/v2/<repo>/blobs/<digest>` */
export function blobPath(r: Repo, digest: string, from = 'caller'): string {
  return `/v2/${checkRepository(r)}/blobs/${checkDigest(digest, r, from)}`;
}

/** `/v2/<repo>/manifests/<tag or digest>`: a reference with `:` must be a digest, else a tag. */
export function manifestPath(r: Repo, reference: string, from = 'caller'): string {
  const repo = checkRepository(r);
  if (reference.includes(':')) return `/v2/${repo}/manifests/${checkDigest(reference, r, from)}`;
  const p = tagProblem(reference);
  if (p) throw registryError('BAD_REFERENCE', `tag from ${from} refused: ${p}`, { host: r.host, repository: r.repository });
  return `/v2/${repo}/manifests/${reference}`;
}

/** `/v2/<repo>/blobs/uploads/` (with a cross-repository mount query when `mount` is given). */
export function uploadsPath(r: Repo, mount?: { digest: string; from: string }): string {
  const base = `/v2/${checkRepository(r)}/blobs/uploads/`;
  if (!mount) return base;
  checkRepository({ host: r.host, repository: mount.from });
  return `${base}?mount=${encodeURIComponent(checkDigest(mount.digest, r, 'mount'))}&from=${encodeURIComponent(mount.from)}`;
}

/** `/v2/<repo>/tags/list?n=<page>` */
export function tagsPath(r: Repo, page: number): string {
  return `/v2/${checkRepository(r)}/tags/list?n=${page}`;
}

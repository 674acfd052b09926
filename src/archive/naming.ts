/**
 * Which name an imported image gets.
 *
 * - docker-archive: every `RepoTags` entry, normalized (`demo/app:v1` ->
 *   `docker.io/demo/app:v1`).
 * - oci-archive: per index.json entry, `io.containerd.image.name` (a full
 *   reference, written by containerd / docker >= 25), else
 *   `org.opencontainers.image.ref.name` when it is a full reference.
 * - When the archive gives only a tag (skopeo's `oci-archive:FILE:v1` writes
 *   ref.name `v1`) or no name at all, the repository is derived from the file:
 *   `import.local/<sanitized file name>:<tag or latest>`. `import.local` is
 *   not a real registry: such images are reachable only through their mirror
 *   path (`<mirror>/import.local/<name>:<tag>`), never confused with Docker Hub.
 *   Sanitizing: basename, archive extensions (.tar .gz .tgz .oci .docker)
 *   dropped, lowercased, every run of characters outside [a-z0-9] -> `-`,
 *   at most 100 characters, `image` if nothing is left.
 * - An archive that fails before any name is known gets an error record under
 *   `import/<file name>` (not an image reference on purpose: it can never
 *   match a pod's image).
 */
import { basename } from 'node:path';
import { normalizeReference } from '../reference/index.js';
import { describeError } from '../errors.js';

export const DERIVED_DOMAIN = 'import.local';
export const REF_NAME = 'org.opencontainers.image.ref.name';
export const CONTAINERD_NAME = 'io.containerd.image.name';
const TAG_RE = /^\w[\w.-]{0,127}$/;

export interface ImageName {
  /** Normalized upstream reference. */
  ref: string;
  /** The repository was derived from the file name. */
  fromFile: boolean;
  /** Why / how the name was chosen, for the log and the record. */
  note?: string;
}

export function sanitizedBaseName(file: string): string {
  let b = basename(file).toLowerCase();
  for (;;) {
    const next = b.replace(/\.(tar|gz|tgz|oci|docker)$/, '');
    if (next === b) break;
    b = next;
  }
  const s = b
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .join('-')
    .slice(0, 100)
    .replace(/-+$/, '');
  return s || 'image';
}

export function derivedRepository(file: string): string {
  return `${DERIVED_DOMAIN}/${sanitizedBaseName(file)}`;
}

/** The record ref for a file whose image name is unknown. */
export function fileRecordRef(file: string): string {
  return `import/${basename(file)}`;
}

/** Normalized reference or an explanation. */
export function tryNormalize(s: string): { ref: string } | { error: string } {
  try {
    return { ref: normalizeReference(s) };
  } catch (e) {
    return { error: describeError(e) };
  }
}

/** Names for one docker-archive image (its RepoTags); invalid tags are reported in `skipped`. */
export function dockerNames(repoTags: unknown, file: string): { names: ImageName[]; skipped: string[] } {
  const names: ImageName[] = [];
  const skipped: string[] = [];
  if (Array.isArray(repoTags)) {
    for (const t of repoTags) {
      if (typeof t !== 'string') continue;
      const r = tryNormalize(t);
      if ('ref' in r) {
        if (!names.some((n) => n.ref === r.ref)) names.push({ ref: r.ref, fromFile: false });
      } else skipped.push(`${t}: ${r.error}`);
    }
  }
  if (names.length === 0) {
    names.push({
      ref: `${derivedRepository(file)}:latest`,
      fromFile: true,
      note: `archive names no image${skipped.length ? ' (RepoTags invalid)' : ''}: name derived from the file name`,
    });
  }
  return { names, skipped };
}

/** Does this index.json descriptor carry a usable name or tag? */
export function hasOciName(annotations: Record<string, string> | undefined): boolean {
  const full = annotations?.[CONTAINERD_NAME];
  if (full && 'ref' in tryNormalize(full)) return true;
  const refName = annotations?.[REF_NAME];
  return !!refName && (TAG_RE.test(refName) || 'ref' in tryNormalize(refName));
}

/** The name of one index.json descriptor of an oci-archive. */
export function ociName(annotations: Record<string, string> | undefined, file: string, digest: string, unnamedCount: number): ImageName {
  const full = annotations?.[CONTAINERD_NAME];
  if (full) {
    const r = tryNormalize(full);
    if ('ref' in r) return { ref: r.ref, fromFile: false };
  }
  const refName = annotations?.[REF_NAME];
  if (refName) {
    if (TAG_RE.test(refName)) {
      return {
        ref: `${derivedRepository(file)}:${refName}`,
        fromFile: true,
        note: `oci-archive names only the tag "${refName}": repository derived from the file name`,
      };
    }
    const r = tryNormalize(refName);
    if ('ref' in r) return { ref: r.ref, fromFile: false };
  }
  const why = refName ? `its name "${refName}" is not a valid reference` : 'it has no name';
  // one unnamed image takes :latest; several are told apart by digest
  return unnamedCount > 1
    ? { ref: `${derivedRepository(file)}@${digest}`, fromFile: true, note: `${why}: imported by digest under a name derived from the file name` }
    : { ref: `${derivedRepository(file)}:latest`, fromFile: true, note: `${why}: name derived from the file name` };
}

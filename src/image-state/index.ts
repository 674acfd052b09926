/**
 * The states an image moves through (SPEC "Image states") and the small view
 * of a record that admission decides on. Pure and tiny on purpose: the queue
 * stores records in these states, the policy judges pods by them, and
 * neither has to import the other.
 */
export type ImageState = 'queued' | 'copying' | 'mirrored' | 'retrying' | 'error' | 'blocked';
export const IMAGE_STATES: readonly ImageState[] = ['queued', 'copying', 'mirrored', 'retrying', 'error', 'blocked'];

/**
 * Tenant isolation (SPEC "Trust model"): `public` when the upstream serves
 * the image anonymously, `private` when it needed credentials.
 */
export type ImageAccess = 'public' | 'private';

/** What admission needs to know of an image's record. */
export interface ImageView {
  state: ImageState;
  /** The manifest the mirror serves (of the last successful copy). */
  digest: string | null;
  /**
   * The upstream manifest digest of that copy: differs from `digest` when a
   * filtered index was pushed under a new one (`copy.platformMode: strip`).
   * null or absent: not known (never copied, or copied before ferry kept it).
   */
  sourceDigest?: string | null;
  mirroredAt: string | null;
  blockedReason: string | null;
  /** null or absent: not known yet (never copied, or copied before ferry checked). */
  access?: ImageAccess | null;
  /** For a `private` image: namespaces whose own pull secret was verified for it, comma-joined, sorted. */
  grantedNamespaces?: string | null;
  /**
   * `verify:` (SPEC "Supply chain"): the upstream cosign signature of the last
   * copy; on an `error` record, set only when an enforce rule refused the image.
   */
  signature?: 'verified' | 'unverified' | 'unsigned' | null;
  /** Why the last copy failed (on `error` / `retrying` records). */
  lastError?: string | null;
  /** Who asked for the record first (`admission`, `api`, `watch`, `import`). */
  source?: string;
}

/** Whether a `verify:` rule in mode enforce refused this image (unsigned or wrongly signed): pods naming it are denied. */
export function failedVerification(r: Pick<ImageView, 'state' | 'signature'> | undefined): boolean {
  return r?.state === 'error' && (r.signature === 'unsigned' || r.signature === 'unverified');
}

/** Whether the mirror can serve this image now (used by `mirrored`/`enforce`): mirrored once, and not blocked. */
export function isAvailable(r: Pick<ImageView, 'state' | 'mirroredAt'> | undefined): boolean {
  if (!r || r.state === 'blocked') return false;
  return r.state === 'mirrored' || r.mirroredAt !== null;
}

/** The namespaces of a `grantedNamespaces` field. */
export function grantedNamespacesOf(field: string | null | undefined): string[] {
  return field ? field.split(',').filter(Boolean) : [];
}

/** `namespaces` as the `grantedNamespaces` field stores them: unique, sorted, comma-joined; null when empty. */
export function formatGrantedNamespaces(namespaces: Iterable<string>): string | null {
  const list = [...new Set(namespaces)].filter(Boolean).sort();
  return list.length ? list.join(',') : null;
}

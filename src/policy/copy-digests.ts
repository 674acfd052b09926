/**
 * Which mirror reference stands for an upstream image, and which record vouches
 * for a mirror reference, when a platform-filtered index was pushed under a new
 * digest (`copy.platformMode: strip`): the record keeps `digest` (what the mirror
 * serves) and `sourceDigest` (the upstream's). Pure, like admission.ts.
 */
import type { FerryConfig } from '../config/types.js';
import type { ImageView } from '../image-state/index.js';
import type { UpstreamImage } from './mirror-ops.js';

/**
 * The other digests of a digest: for the mirror digest of a filtered index (`copy.platformMode:
 * strip`) the upstream digest it was made from, and back (src/queue/digest-aliases.ts keeps them).
 */
export type DigestAliasLookup = (digest: string) => readonly string[];
export const NO_ALIASES: DigestAliasLookup = () => [];

/** `ref` (ending in `@digest`) with that digest replaced by `other`, or dropped when `other` is empty. */
function withDigest(ref: string, digest: string, other: string): string {
  const at = `@${digest}`;
  if (!ref.endsWith(at)) return ref;
  return other ? `${ref.slice(0, -at.length)}@${other}` : ref.slice(0, -at.length);
}

/**
 * The record that says who may pull the mirror reference `upstream` stands for: its own; for the
 * mirror digest of a filtered index (the strip rewrite of a digest reference), the record of the
 * upstream digest it was made from; or for `repo:tag@digest` (the pinDigest rewrite) the tag's.
 * Each only while it still says the mirror serves that digest. `aliased`: found by another digest,
 * so `image.ref` is the upstream name to point the pod's author at.
 */
export function recordOfCopy(
  upstream: UpstreamImage,
  view: ImageView | undefined,
  lookup: (ref: string) => ImageView | undefined,
  aliases: DigestAliasLookup,
): { image: UpstreamImage; view: ImageView; aliased: boolean } | undefined {
  if (view) return { image: upstream, view, aliased: false };
  const digest = upstream.digest;
  if (!digest) return undefined;
  for (const other of aliases(digest)) {
    const ref = withDigest(upstream.ref, digest, other);
    const rec = lookup(ref);
    if (rec?.digest === digest) return { image: { ...upstream, ref, digest: other, mirrorRef: withDigest(upstream.mirrorRef, digest, other) }, view: rec, aliased: true };
  }
  const tagRef = withDigest(upstream.ref, digest, '');
  const tagged = lookup(tagRef);
  if (tagged?.digest !== digest) return undefined;
  return { image: { ...upstream, ref: tagRef, mirrorRef: withDigest(upstream.mirrorRef, digest, '') }, view: tagged, aliased: false };
}

/**
 * What the pod is rewritten to (SPEC "Supply chain": a digest-pinned pod is always rewritten to a
 * reference the mirror serves). A digest reference mirrored as a filtered index is served under
 * the record's `digest`, not the one the pod names; `pinDigest` pins what the mirror serves too
 * (`digest`, never `sourceDigest`: the mirror does not hold the upstream index of a filtered one).
 */
export function rewriteTarget(config: FerryConfig, upstream: UpstreamImage, view: ImageView | undefined, available: boolean): string {
  const served = available ? view?.digest : null;
  if (upstream.digest) return served && served !== upstream.digest ? withDigest(upstream.mirrorRef, upstream.digest, served) : upstream.mirrorRef;
  return config.rewrite.pinDigest && served ? `${upstream.mirrorRef}@${served}` : upstream.mirrorRef;
}

/**
 * A digest reference not copied yet that `copy.platformMode: strip` may mirror under a digest
 * nobody knows yet: rewritten to the one it names, the pod would pull what the mirror never holds
 * (its image cannot be changed afterwards), so `always` leaves it upstream until the copy is done.
 */
export function digestNotKnownYet(config: FerryConfig, upstream: UpstreamImage, view: ImageView | undefined, available: boolean): boolean {
  return !!upstream.digest && config.copy.platformMode === 'strip' && config.copy.platforms.length > 0 && !(available && view?.digest);
}

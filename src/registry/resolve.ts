/**
 * Step 1 of a copy (copy.ts): which digest the source names now, and what
 * the mirror holds under the destination reference, in as few upstream
 * round trips as the case allows.
 *
 *  - A digest-pinned source needs nothing from the upstream here (the plan
 *    GETs it by digest, verified).
 *  - A re-sync of a tag ferry already copied (the caller knows a digest for
 *    it, or the mirror holds the tag): HEAD the upstream manifest, in
 *    parallel with the mirror's HEAD. Unchanged -> that HEAD is the only
 *    upstream request of the copy, and registries that meter pulls (Docker
 *    Hub) count GETs, not HEADs. Changed -> the plan GETs it by digest.
 *  - A first copy (the caller says it knows no digest, or the mirror does
 *    not hold the tag): GET the manifest by tag at once, no HEAD. Its digest
 *    is the hash of the exact bytes read, checked against the registry's
 *    `Docker-Content-Digest` (manifest-io.ts), and the plan goes on with
 *    those bytes: one upstream round trip instead of two.
 *
 * When the caller does not say (`knownSourceDigest` undefined), the mirror's
 * HEAD decides, and is waited for before the upstream is asked: the mirror
 * is ferry's own registry, normally near, the upstream the far one.
 */
import { registryError, repoCtx } from './errors.js';
import { MAX_MANIFEST_PUSH_BYTES } from './manifest.js';
import { fetchManifest, headManifest, manifestTooLarge, type FetchedManifest, type ManifestInfo } from './manifest-io.js';
import { manifestRefOf, type RegistryRef } from './ref.js';
import type { Transport } from './transport/index.js';

export interface Resolved {
  sourceDigest: string;
  /** What the mirror holds under dst's tag (else its digest); undefined: nothing. */
  dstHead: ManifestInfo | undefined;
  /** The source manifest, when step 1 had to GET it (a first copy): the plan uses these bytes. */
  top?: FetchedManifest;
}

/**
 * `known`: the source digest the caller last saw for this tag (HEAD first),
 * null when it knows none (GET at once), undefined when it cannot tell (the
 * mirror decides).
 */
export async function resolveSource(transport: Transport, src: RegistryRef, dst: RegistryRef, known: string | null | undefined, signal: AbortSignal): Promise<Resolved> {
  const dstHeadRef: RegistryRef = dst.tag ? { host: dst.host, repository: dst.repository, tag: dst.tag } : dst;
  const dstHeadP = headManifest(transport, dstHeadRef, signal);
  // awaited below on every path; a failure before then must not count as unhandled
  dstHeadP.catch(() => {});
  if (src.digest) return { sourceDigest: src.digest, dstHead: await dstHeadP };
  const firstCopy = known === null || (known === undefined && (await dstHeadP) === undefined);
  if (!firstCopy) {
    const [srcHead, dstHead] = await Promise.all([headManifest(transport, src, signal), dstHeadP]);
    if (!srcHead) throw notFound(src, 'HEAD manifest');
    if (srcHead.size > MAX_MANIFEST_PUSH_BYTES) throw manifestTooLarge(srcHead.size, MAX_MANIFEST_PUSH_BYTES, 'pushed', repoCtx(src, 'HEAD manifest'));
    return { sourceDigest: srcHead.digest, dstHead };
  }
  const [top, dstHead] = await Promise.all([fetchManifest(transport, src, signal, true), dstHeadP]);
  if (!top) throw notFound(src, 'GET manifest');
  return { sourceDigest: top.digest, dstHead, top };
}

const notFound = (src: RegistryRef, op: string) => registryError('MANIFEST_UNKNOWN', `manifest ${manifestRefOf(src)} not found`, repoCtx(src, op));

/**
 * The bounds of one copy's plan (manifest.ts limits), enforced while the plan
 * is made: a hostile or broken upstream cannot make a copy hold or fetch
 * without limit.
 */
import { registryError, repoCtx } from './errors.js';
import {
  blobsOf,
  childrenOf,
  descriptorShapeProblem,
  MAX_BLOBS_PER_COPY,
  MAX_INDEX_DEPTH,
  MAX_MANIFEST_BYTES_PER_COPY,
  MAX_MANIFEST_PUSH_BYTES,
  MAX_MANIFESTS_PER_COPY,
  type Descriptor,
} from './manifest.js';
import { manifestTooLarge, type FetchedManifest } from './manifest-io.js';
import { checkDigest } from './paths.js';
import type { RegistryRef } from './ref.js';

/**
 * What one copy's plan has taken so far, refused past the manifest.ts
 * limits as soon as a manifest or its descriptors are seen (before any child
 * is fetched, before any blob moves).
 */
export class PlanBudget {
  private manifests = 0;
  private bytes = 0;
  constructor(
    private readonly src: RegistryRef,
    private readonly blobs: Map<string, Descriptor>,
  ) {}

  private tooMany(what: string, limit: number): never {
    throw registryError('MANIFEST_TOO_LARGE', `${what} (ferry allows ${limit})`, { ...repoCtx(this.src, 'plan copy'), details: { limit } });
  }

  /** A fetched manifest: within the push limit and the per-copy count and bytes. */
  manifest(m: FetchedManifest): void {
    if (m.bytes.length > MAX_MANIFEST_PUSH_BYTES) throw manifestTooLarge(m.bytes.length, MAX_MANIFEST_PUSH_BYTES, 'pushed', repoCtx(this.src, `manifest ${m.digest}`));
    this.bytes += m.bytes.length;
    if (this.bytes > MAX_MANIFEST_BYTES_PER_COPY) this.tooMany(`manifests of this image hold more than ${MAX_MANIFEST_BYTES_PER_COPY} bytes`, MAX_MANIFEST_BYTES_PER_COPY);
  }

  /** An index's children, before any is fetched: count, shape and digest of each. */
  children(index: FetchedManifest, depth: number): Descriptor[] {
    if (depth > MAX_INDEX_DEPTH) this.tooMany(`index nesting deeper than ${MAX_INDEX_DEPTH}`, MAX_INDEX_DEPTH);
    if (!Array.isArray(index.json?.manifests)) throw registryError('MANIFEST_INVALID', `index ${index.digest} has no "manifests" list`, repoCtx(this.src));
    const list = childrenOf(index.json);
    this.manifests += list.length;
    if (this.manifests > MAX_MANIFESTS_PER_COPY) this.tooMany(`index tree lists more than ${MAX_MANIFESTS_PER_COPY} manifests`, MAX_MANIFESTS_PER_COPY);
    for (const d of list) this.descriptor(d, `child of ${index.digest}`);
    return list;
  }

  /** An image manifest's config and layers into the blob set. */
  imageBlobs(m: FetchedManifest): void {
    if (m.json?.layers !== undefined && !Array.isArray(m.json.layers)) throw registryError('MANIFEST_INVALID', `manifest ${m.digest} has a "layers" that is not a list`, repoCtx(this.src));
    for (const b of blobsOf(m.json)) {
      this.descriptor(b, `blob of ${m.digest}`);
      if (this.blobs.has(b.digest)) continue;
      if (this.blobs.size >= MAX_BLOBS_PER_COPY) this.tooMany(`image references more than ${MAX_BLOBS_PER_COPY} blobs`, MAX_BLOBS_PER_COPY);
      this.blobs.set(b.digest, b);
    }
  }

  private descriptor(d: Descriptor, from: string): void {
    const p = descriptorShapeProblem(d);
    if (p) throw registryError('MANIFEST_INVALID', `descriptor (${from}) ${p}`, repoCtx(this.src));
    checkDigest(d.digest, this.src, from);
  }
}

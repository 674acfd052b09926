/**
 * Where blobs already are in the mirror: per mirror host, a bounded LRU of
 * digest -> the mirror repositories seen holding it (by a HEAD, a PUT or a
 * mount of this engine), each with the ORIGIN it was copied from, so a copy
 * can cross-repository mount a layer another image already brought instead
 * of downloading it again (images sharing base layers are the norm).
 *
 * Why the origin: a mount hands the mirror repository bytes its own upstream
 * was never asked for. A copy from upstream U only mounts a blob that came
 * into the mirror from U too (the same registry, with this engine's
 * credentials for it), never one another upstream registry served; explicit
 * caller hints (`mountFrom`, a same-registry source repository) are the
 * caller's word and not filtered. Mounts are only ever asked of ferry's own
 * mirror (the host being written to), never of an upstream.
 *
 * No I/O: blob-transfer.ts fills and reads it.
 */

/** Origin of blobs whose source is not an upstream registry (a local stream, a bare existence check): never a copy's mount source. */
export const NO_ORIGIN = '';

/** Digests remembered per engine (all mirror hosts together), at most; the least recently used goes first. */
export const MAX_BLOB_HOMES = 100_000;
/** Repositories remembered per digest, at most (the most recent kept). */
export const MAX_HOMES_PER_DIGEST = 8;

export class BlobHomes {
  /** `mirrorHost digest` -> repository -> origin; both maps in use order (oldest first). */
  private readonly byDigest = new Map<string, Map<string, string>>();

  constructor(
    private readonly maxDigests = MAX_BLOB_HOMES,
    private readonly perDigest = MAX_HOMES_PER_DIGEST,
  ) {}

  get size(): number {
    return this.byDigest.size;
  }

  /** `host/repository` holds `digest`, which came from `origin` (an upstream host, or NO_ORIGIN). */
  remember(host: string, repository: string, digest: string, origin: string): void {
    const key = `${host} ${digest}`;
    let homes = this.byDigest.get(key);
    if (homes) this.byDigest.delete(key);
    else {
      if (this.byDigest.size >= this.maxDigests) this.byDigest.delete(this.byDigest.keys().next().value!);
      homes = new Map();
    }
    this.byDigest.set(key, homes);
    // an origin already known for this repository stays: the first copy that put the blob there is what it came from
    const was = homes.get(repository);
    homes.delete(repository);
    homes.set(repository, was !== undefined && was !== NO_ORIGIN ? was : origin);
    if (homes.size > this.perDigest) homes.delete(homes.keys().next().value!);
  }

  /**
   * Repositories of mirror `host` (not `exclude`) holding `digest`, most
   * recent first: those filled from `origin` when one is given, any when
   * `origin` is undefined (a local stream pushes bytes it has itself).
   */
  candidates(host: string, digest: string, exclude: string, origin: string | undefined): string[] {
    const key = `${host} ${digest}`;
    const homes = this.byDigest.get(key);
    if (!homes) return [];
    const out: string[] = [];
    for (const [repo, from] of homes) {
      if (repo === exclude) continue;
      if (origin !== undefined && (from === NO_ORIGIN || from !== origin)) continue;
      out.unshift(repo);
    }
    if (out.length > 0) {
      // used: it stays longer
      this.byDigest.delete(key);
      this.byDigest.set(key, homes);
    }
    return out;
  }

  clear(): void {
    this.byDigest.clear();
  }
}

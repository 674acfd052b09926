import type { MirrorConfig } from '../config/types.js';
import { formatReference, fromMirrorReference, repositoryOf, toMirrorReference, tryParseReference } from '../reference/index.js';

export interface UpstreamImage {
  /** Normalized upstream reference, `docker.io/library/nginx:1.27`. */
  ref: string;
  /** The upstream registry host, `docker.io`, `ghcr.io`, `registry.local:5000`. */
  host: string;
  /** `docker.io/library/nginx` */
  repository: string;
  digest?: string;
  /** Where it lives in the mirror. */
  mirrorRef: string;
}

export type ParsedImage = { ok: false; error: string } | { ok: true; inMirror: boolean; upstream?: UpstreamImage };

export interface MirrorOps {
  parse(image: string): ParsedImage;
}

const CACHE_LIMIT = 10_000;

/**
 * Reference work for the policy, memoized per config: the webhook sees the
 * same few hundred images over and over, and parsing + mapping is the
 * admission path's main cost.
 */
export function mirrorOps(mirror: MirrorConfig): MirrorOps {
  const cache = new Map<string, ParsedImage>();
  const opts = { registry: mirror.registry, prefix: mirror.prefix };
  const compute = (image: string): ParsedImage => {
    const r = tryParseReference(image);
    if (r instanceof Error) return { ok: false, error: r.message };
    const ref = formatReference(r);
    const back = fromMirrorReference(ref, opts);
    if (back !== undefined) {
      const up = tryParseReference(back);
      if (up instanceof Error) return { ok: true, inMirror: true };
      return { ok: true, inMirror: true, upstream: { ref: formatReference(up), host: up.domain, repository: repositoryOf(up), ...(up.digest ? { digest: up.digest } : {}), mirrorRef: ref } };
    }
    if (r.domain === opts.registry || r.domain.toLowerCase() === opts.registry.toLowerCase()) {
      // In the mirror registry but outside ferry's layout (pushed by hand): leave it alone.
      return { ok: true, inMirror: true };
    }
    // The mirror path lowercases the host (DNS is case-insensitive), so `GHCR.IO/x` is the `ghcr.io/x` it
    // shares a mirror path with: one record, and one host's settings (credentials, shareWith, blocks), for both.
    const lower = r.domain === r.domain.toLowerCase() ? r : tryParseReference(formatReference({ ...r, domain: r.domain.toLowerCase() }));
    const up = lower instanceof Error ? r : lower;
    try {
      const mirrorRef = toMirrorReference(up, opts);
      return { ok: true, inMirror: false, upstream: { ref: formatReference(up), host: up.domain, repository: repositoryOf(up), ...(up.digest ? { digest: up.digest } : {}), mirrorRef } };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  };
  return {
    parse(image) {
      let hit = cache.get(image);
      if (hit === undefined) {
        hit = compute(image);
        if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
        cache.set(image, hit);
      }
      return hit;
    },
  };
}

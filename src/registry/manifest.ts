/**
 * Manifest media types, parsing, and platform filtering of image indexes.
 *
 * INDEX FILTERING (see also CopyResult.filtered / sourceDigest / platformMode):
 * - `platforms` empty, or every child of the index matches: the index bytes
 *   are pushed unchanged (same digest, digest references keep working).
 * - an index with children outside `platforms` reaches the mirror in the
 *   `copy.platformMode` chosen for the copy (sparse-index.ts): `full` (every
 *   child, bytes unchanged), `sparse` (bytes unchanged, only the matching
 *   children copied; the mirror must accept an index whose children it does
 *   not hold: docker-registry 2.8 does not), or `strip`: a NEW index holding
 *   only the matching children (plus attestation manifests that refer to a
 *   kept child), under a new digest (CopyResult.digest; the original is
 *   CopyResult.sourceDigest). The record keeps both, and admission rewrites a
 *   digest reference to the digest the mirror serves. The new bytes are a
 *   deterministic function of the source bytes and `platforms` (JSON
 *   re-serialization of the same object with `manifests` filtered), so
 *   re-copies produce the same digest and the up-to-date check stays cheap.
 * - `auto` (the default): sparse where the mirror accepts it, else strip for
 *   a tag and full for a digest reference (a digest is a promise pods pin).
 */
import { createHash } from 'node:crypto';

export const MT = {
  DOCKER_MANIFEST: 'application/vnd.docker.distribution.manifest.v2+json',
  DOCKER_LIST: 'application/vnd.docker.distribution.manifest.list.v2+json',
  OCI_MANIFEST: 'application/vnd.oci.image.manifest.v1+json',
  OCI_INDEX: 'application/vnd.oci.image.index.v1+json',
} as const;

/** Sent on every manifest request: all four types. */
export const MANIFEST_ACCEPT = [MT.OCI_INDEX, MT.DOCKER_LIST, MT.OCI_MANIFEST, MT.DOCKER_MANIFEST].join(', ');

export const isIndexType = (mt: string): boolean => mt === MT.OCI_INDEX || mt === MT.DOCKER_LIST;
export const isImageType = (mt: string): boolean => mt === MT.OCI_MANIFEST || mt === MT.DOCKER_MANIFEST;
export const isSupportedType = (mt: string): boolean => isIndexType(mt) || isImageType(mt);

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  platform?: Platform;
  annotations?: Record<string, string>;
}

export function sha256Digest(b: Uint8Array): string {
  return digestOf(b, 'sha256');
}

/** `algorithm:hex` of `b` (algorithm: one of paths.ts DIGEST_ALGORITHMS). */
export function digestOf(b: Uint8Array, algorithm: string): string {
  return `${algorithm}:${createHash(algorithm).update(b).digest('hex')}`;
}

/** Algorithm part of a (validated) digest. */
export const algorithmOf = (digest: string): string => digest.slice(0, digest.indexOf(':'));

/*
 * Limits on what an upstream manifest may make ferry read, hold and do. A
 * hostile or broken registry must not be able to exhaust a worker's memory
 * or turn one copy into an unbounded number of requests.
 */
/** Largest manifest read (GET body, or announced by HEAD/GET Content-Length). */
export const MAX_MANIFEST_READ_BYTES = 8 * 1024 * 1024;
/** Largest manifest pushed: distribution's own limit for a manifest PUT. A copy checks it before moving any blob. */
export const MAX_MANIFEST_PUSH_BYTES = 4 * 1024 * 1024;
/** Indexes below the top one (index -> index -> ...): real images have none (an index lists image manifests); 4 leaves room for artifacts. */
export const MAX_INDEX_DEPTH = 4;
/**
 * Manifests in one copy's index tree (every child of every nested index).
 * The largest public indexes hold a few dozen children (8 platforms plus
 * their attestation manifests is 16); 1024 is far beyond any real image,
 * and bounds both the child GETs and the memory they hold.
 */
export const MAX_MANIFESTS_PER_COPY = 1024;
/** Bytes of manifests one copy holds while it plans (each is kept until pushed). */
export const MAX_MANIFEST_BYTES_PER_COPY = 64 * 1024 * 1024;
/**
 * Unique blobs in one copy. A runnable image has at most 125 layers (moby's
 * layer store refuses deeper chains: "max depth exceeded"); 16 platforms of
 * those is ~2,000. 10,000 leaves room for artifacts with many files as
 * layers while bounding a copy (each blob costs >= 3 requests).
 */
export const MAX_BLOBS_PER_COPY = 10_000;

/** Why a descriptor from a manifest cannot be used (digest checked by paths.ts), or undefined. */
export function descriptorShapeProblem(d: unknown): string | undefined {
  if (!d || typeof d !== 'object') return 'is not an object';
  const { size } = d as { size?: unknown };
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return `has size ${JSON.stringify(size)?.slice(0, 40)}, not a byte count`;
  return undefined;
}

/** Media type of a fetched manifest: Content-Type when meaningful, else inferred from the JSON. */
export function manifestMediaType(contentType: string | null, json: any): string {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (isSupportedType(ct)) return ct;
  if (typeof json?.mediaType === 'string' && json.mediaType) return json.mediaType;
  if (Array.isArray(json?.manifests)) return MT.OCI_INDEX;
  if (json?.config && Array.isArray(json?.layers)) return MT.OCI_MANIFEST;
  return ct || 'application/octet-stream';
}

/** Blobs an image manifest references (config + layers; non-distributable layers with `urls` are skipped, like skopeo). */
export function blobsOf(json: any): Descriptor[] {
  const out: Descriptor[] = [];
  if (json?.config?.digest) out.push(json.config as Descriptor);
  for (const l of (Array.isArray(json?.layers) ? json.layers : []) as Descriptor[]) {
    if (!l?.digest) continue;
    const foreign = /foreign|nondistributable/.test(l.mediaType ?? '') && Array.isArray(l.urls) && l.urls.length > 0;
    if (!foreign) out.push(l);
  }
  return out;
}

export function platformString(p: Platform | undefined): string {
  if (!p) return 'unknown/unknown';
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

function parsePlatform(s: string): Platform {
  const [os = '', architecture = '', variant] = s.split('/');
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** `linux/arm64` matches linux/arm64 with any variant; `linux/arm/v7` needs v7 (arm64 without variant = v8). */
export function platformMatches(p: Platform | undefined, wanted: string): boolean {
  if (!p) return false;
  const w = parsePlatform(wanted);
  if (p.os !== w.os || p.architecture !== w.architecture) return false;
  if (!w.variant) return true;
  const v = p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined);
  return v === w.variant;
}

const ATTESTATION = 'attestation-manifest';

/** Child descriptors of an index (none when `manifests` is not a list; copy.ts checks each one). */
export function childrenOf(json: any): Descriptor[] {
  return Array.isArray(json?.manifests) ? (json.manifests as Descriptor[]) : [];
}

export interface FilterResult {
  /** Children to copy. */
  kept: Descriptor[];
  /** Bytes to push for the index (the original bytes when nothing was dropped). */
  bytes: Buffer;
  digest: string;
  filtered: boolean;
  /** Platforms of the kept children (attestations excluded). */
  platforms: string[];
  /** Every platform in the index (for error messages). */
  available: string[];
}

/**
 * Applies `platforms` to an index (see the decision at the top of the file).
 * `pinned`: the source was referenced by digest -> never filter.
 */
export function filterIndex(bytes: Buffer, json: any, platforms: string[], pinned: boolean): FilterResult {
  const all = childrenOf(json);
  const isAttestation = (d: Descriptor) => d.annotations?.['vnd.docker.reference.type'] === ATTESTATION;
  const available = [...new Set(all.filter((d) => !isAttestation(d)).map((d) => platformString(d.platform)))];
  const digest = sha256Digest(bytes);
  const images = (ds: Descriptor[]) => [...new Set(ds.filter((d) => !isAttestation(d)).map((d) => platformString(d.platform)))];
  if (platforms.length === 0 || pinned) {
    return { kept: all, bytes, digest, filtered: false, platforms: images(all), available };
  }
  const keptImages = all.filter((d) => !isAttestation(d) && platforms.some((w) => platformMatches(d.platform, w)));
  const keptDigests = new Set(keptImages.map((d) => d.digest));
  const kept = all.filter((d) => keptDigests.has(d.digest) || (isAttestation(d) && keptDigests.has(d.annotations?.['vnd.docker.reference.digest'] ?? '')));
  if (kept.length === all.length) return { kept: all, bytes, digest, filtered: false, platforms: images(all), available };
  if (keptImages.length === 0) return { kept: [], bytes, digest, filtered: true, platforms: [], available };
  const keptSet = new Set(kept);
  const copy = { ...json, manifests: all.filter((d) => keptSet.has(d)) };
  const out = Buffer.from(JSON.stringify(copy));
  return { kept, bytes: out, digest: sha256Digest(out), filtered: true, platforms: images(kept), available };
}

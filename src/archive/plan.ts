/**
 * What an archive asks to push: blobs (with where their bytes are), manifests,
 * names. Built from pass 1 (the index and small metadata) without reading any
 * layer; executed by push.ts.
 */
import { createHash } from 'node:crypto';
import type { TarEntry } from './tar.js';
import type { ImageName } from './naming.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

export interface BlobSpec {
  /** De-duplication key: the digest when known, else `entry:<ordinal>`. */
  key: string;
  /** Where the bytes are in the archive... */
  entry?: TarEntry;
  /** ...or in memory (a docker-archive config). */
  bytes?: Buffer;
  /** Known digest (an OCI blob, a config): verified by the upload. */
  digest?: string;
  size?: number;
  /** A docker-archive layer: compressed on the fly; its diffID is verified and keys the digest cache. */
  layer?: { diffId?: string };
}

export interface PushedBlob {
  digest: string;
  size: number;
  /** For docker-archive layers: the layer media type chosen while pushing. */
  mediaType?: string;
}

export interface ManifestSpec {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export interface PlannedImage {
  names: ImageName[];
  blobs: BlobSpec[];
  /** Index children, pushed by digest before the top manifest (deepest first). */
  children: ManifestSpec[];
  /** The top manifest; a docker-archive's is built once its layer digests are known. */
  top(pushed: ReadonlyMap<string, PushedBlob>): ManifestSpec;
}

export interface Plan {
  format: ArchiveFormat;
  images: PlannedImage[];
  /** Things worth a log line (ignored tags, derived names). */
  notes: string[];
}

export function sha256(b: Uint8Array): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** JSON.parse that names the entry on failure. */
export function parseJson(bytes: Buffer, what: string, onError: (msg: string) => Error): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw onError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * oci-archive: an OCI image layout in a tar (`oci-layout`, `index.json`,
 * `blobs/<alg>/<hex>`). Every blob and manifest is pushed byte for byte, so
 * the mirror serves the same digests as the archive. Each index.json entry is
 * one named image (see naming.ts); an index entry brings all its children,
 * which must be in the archive (a registry refuses a sparse index).
 */
import { createHash } from 'node:crypto';
import type { Archive } from './archive.js';
import { importError } from './errors.js';
import { hasOciName, ociName } from './naming.js';
import { isRecord, parseJson, type BlobSpec, type ManifestSpec, type Plan, type PlannedImage } from './plan.js';

export const MT_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MT_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MT_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const INDEX_TYPES = new Set([MT_OCI_INDEX, MT_DOCKER_LIST]);
const MANIFEST_TYPES = new Set([MT_OCI_MANIFEST, 'application/vnd.docker.distribution.manifest.v2+json']);
const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const MAX_DEPTH = 4;

const corrupt = (msg: string) => importError('CORRUPT', msg);

interface Desc {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

function descriptor(v: unknown, where: string): Desc {
  if (!isRecord(v) || typeof v.digest !== 'string' || typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw corrupt(`${where}: not a descriptor with digest and size`);
  }
  if (!DIGEST_RE.test(v.digest)) throw corrupt(`${where}: unsupported or malformed digest ${JSON.stringify(v.digest).slice(0, 150)}`);
  const annotations = isRecord(v.annotations) ? (Object.fromEntries(Object.entries(v.annotations).filter(([, x]) => typeof x === 'string')) as Record<string, string>) : undefined;
  return {
    digest: v.digest,
    size: v.size,
    ...(typeof v.mediaType === 'string' ? { mediaType: v.mediaType } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

function blobPath(digest: string): string {
  const [alg, hex] = digest.split(':');
  return `blobs/${alg}/${hex}`;
}

function digestOf(bytes: Buffer, digest: string): string {
  const alg = digest.startsWith('sha512:') ? 'sha512' : 'sha256';
  return `${alg}:${createHash(alg).update(bytes).digest('hex')}`;
}

function isForeign(mediaType: string | undefined): boolean {
  return !!mediaType && /nondistributable|foreign/.test(mediaType);
}

export async function planOci(archive: Archive, file: string): Promise<Plan> {
  const notes: string[] = [];
  const layoutEntry = archive.index.get('oci-layout');
  if (layoutEntry) {
    const layout = parseJson(await archive.readSmall(archive.index.resolve('oci-layout'), 'oci-layout'), 'oci-layout', corrupt);
    const v = isRecord(layout) ? layout.imageLayoutVersion : undefined;
    if (typeof v !== 'string' || !v.startsWith('1.')) notes.push(`oci-layout has imageLayoutVersion ${JSON.stringify(v)}; read as 1.0.0`);
  } else notes.push('archive has index.json but no oci-layout file; read as an OCI layout');
  const index = parseJson(await archive.readSmall(archive.index.resolve('index.json', 'index.json'), 'index.json'), 'index.json', corrupt);
  if (!isRecord(index) || !Array.isArray(index.manifests)) throw corrupt('index.json has no manifests array');
  const tops = index.manifests.map((m, i) => descriptor(m, `index.json manifests[${i}]`));
  if (tops.length === 0) throw importError('MISSING_ENTRY', 'index.json lists no images');

  const manifestCache = new Map<string, { json: Record<string, unknown>; spec: ManifestSpec }>();
  const readManifest = async (d: Desc, where: string) => {
    const hit = manifestCache.get(d.digest);
    if (hit) return hit;
    const entry = archive.index.resolve(blobPath(d.digest), `manifest ${d.digest} (${where})`);
    if (entry.size !== d.size) throw corrupt(`manifest ${d.digest} (${where}) has ${entry.size} bytes, its descriptor says ${d.size}`);
    const bytes = await archive.readSmall(entry, `manifest ${d.digest}`);
    const got = digestOf(bytes, d.digest);
    if (got !== d.digest) throw corrupt(`manifest blob ${blobPath(d.digest)} hashes to ${got}`);
    const json = parseJson(bytes, `manifest ${d.digest}`, corrupt);
    if (!isRecord(json)) throw corrupt(`manifest ${d.digest} is not a JSON object`);
    const mediaType = d.mediaType ?? (typeof json.mediaType === 'string' ? json.mediaType : Array.isArray(json.manifests) ? MT_OCI_INDEX : MT_OCI_MANIFEST);
    const out = { json, spec: { digest: d.digest, mediaType, bytes } };
    manifestCache.set(d.digest, out);
    return out;
  };

  /** Adds the blobs of `d` and (for an index) its children, children before parents, to the accumulators. */
  const walk = async (d: Desc, where: string, blobs: Map<string, BlobSpec>, manifests: ManifestSpec[], depth: number): Promise<ManifestSpec> => {
    const { json, spec } = await readManifest(d, where);
    if (INDEX_TYPES.has(spec.mediaType)) {
      if (depth >= MAX_DEPTH) throw importError('UNSUPPORTED', `indexes nested deeper than ${MAX_DEPTH} levels`);
      const children = Array.isArray(json.manifests) ? json.manifests : [];
      for (const [i, c] of children.entries()) {
        const cd = descriptor(c, `${where} > manifests[${i}]`);
        const child = await walk(cd, `${where} > ${cd.digest.slice(0, 19)}`, blobs, manifests, depth + 1);
        if (!manifests.some((m) => m.digest === child.digest)) manifests.push(child);
      }
    } else if (MANIFEST_TYPES.has(spec.mediaType)) {
      const parts = [json.config, ...(Array.isArray(json.layers) ? json.layers : [])];
      for (const [i, p] of parts.entries()) {
        const bd = descriptor(p, `${where} ${i === 0 ? 'config' : `layers[${i - 1}]`}`);
        if (blobs.has(bd.digest)) continue;
        const path = blobPath(bd.digest);
        if (!archive.index.has(path) && isForeign(bd.mediaType)) {
          notes.push(`foreign layer ${bd.digest} not in the archive: left to its URLs`);
          continue;
        }
        const entry = archive.index.resolve(path, `blob ${bd.digest} (${where})`);
        if (entry.size !== bd.size) throw corrupt(`blob ${path} has ${entry.size} bytes, its descriptor says ${bd.size}`);
        blobs.set(bd.digest, { key: bd.digest, entry, digest: bd.digest, size: bd.size });
      }
    } else if (/manifest\.v1\+(prettyjws|json)$/.test(spec.mediaType)) {
      throw importError('UNSUPPORTED', `Docker schema1 manifest ${d.digest}`);
    } else {
      throw importError('UNSUPPORTED', `manifest ${d.digest} has media type ${JSON.stringify(spec.mediaType)}`);
    }
    return spec;
  };

  const unnamed = tops.filter((d) => !hasOciName(d.annotations)).length;
  const images: PlannedImage[] = [];
  for (const [i, d] of tops.entries()) {
    const name = ociName(d.annotations, file, d.digest, unnamed);
    if (name.note) notes.push(`${name.ref}: ${name.note}`);
    const blobs = new Map<string, BlobSpec>();
    const children: ManifestSpec[] = [];
    const top = await walk(d, `index.json manifests[${i}]`, blobs, children, 0);
    images.push({ names: [name], blobs: [...blobs.values()], children, top: () => top });
  }
  return { format: 'oci-archive', images, notes };
}

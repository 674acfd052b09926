/**
 * docker-archive (`docker save`, `skopeo copy ... docker-archive:`):
 * manifest.json = [{Config, RepoTags, Layers}], layers are UNCOMPRESSED tars
 * named by diffID (legacy `<id>/layer.tar` may be symlinks to them).
 *
 * Decision: the mirror gets a Docker schema2 manifest
 * (`application/vnd.docker.distribution.manifest.v2+json`) whose layers are
 * gzip-compressed on the fly while streaming (`...rootfs.diff.tar.gzip`),
 * exactly what `docker push` / `skopeo copy docker-archive:` produce. The
 * compressed digest is known only at the end, so each layer is uploaded with
 * PATCH while hashed and committed with the computed digest
 * (RegistryEngine.pushBlob without an expected digest). The uncompressed bytes
 * are hashed too and must equal the config's `rootfs.diff_ids[i]`.
 * `diffID -> {digest, size}` is cached in Redis (`<prefix>:import:layers`), so
 * a layer already in the mirror is not even read again. Layers that are
 * already gzip'd in the archive are pushed as they are.
 *
 * `layerCompression: 'none'` (ImportOptions) instead pushes layers as they
 * are with media type `...rootfs.diff.tar` (digest = diffID, no CPU spent on
 * zlib, 1:1 size in the mirror and on every pull).
 */
import type { Archive } from './archive.js';
import { importError } from './errors.js';
import { dockerNames } from './naming.js';
import { isRecord, parseJson, sha256, type BlobSpec, type Plan, type PlannedImage, type PushedBlob } from './plan.js';

export const MT_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MT_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const MT_DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const MT_DOCKER_LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';

const corrupt = (msg: string) => importError('CORRUPT', msg);

export async function planDocker(archive: Archive, file: string): Promise<Plan> {
  const mEntry = archive.index.resolve('manifest.json', 'manifest.json');
  const manifest = parseJson(await archive.readSmall(mEntry, 'manifest.json'), 'manifest.json', corrupt);
  if (!Array.isArray(manifest) || manifest.length === 0) throw corrupt('manifest.json is not a non-empty array');
  const notes: string[] = [];
  const images: PlannedImage[] = [];
  for (const [i, item] of manifest.entries()) {
    if (!isRecord(item) || typeof item.Config !== 'string' || !Array.isArray(item.Layers)) {
      throw corrupt(`manifest.json item ${i} lacks Config/Layers`);
    }
    if (isRecord(item.LayerSources) && Object.keys(item.LayerSources).length > 0) {
      throw importError('UNSUPPORTED', `manifest.json item ${i} has foreign layers (LayerSources)`);
    }
    const cfgEntry = archive.index.resolve(item.Config, 'config');
    const cfgBytes = await archive.readSmall(cfgEntry, 'config');
    const config = parseJson(cfgBytes, `config ${item.Config}`, corrupt);
    if (!isRecord(config)) throw corrupt(`config ${item.Config} is not a JSON object`);
    const rootfs = isRecord(config.rootfs) ? config.rootfs : undefined;
    const diffIds = Array.isArray(rootfs?.diff_ids) ? (rootfs.diff_ids as unknown[]) : undefined;
    if (diffIds && diffIds.length !== item.Layers.length) {
      throw corrupt(`config ${item.Config} lists ${diffIds.length} diff_ids for ${item.Layers.length} layers`);
    }
    const cfgDigest = sha256(cfgBytes);
    const configBlob: BlobSpec = { key: cfgDigest, bytes: cfgBytes, digest: cfgDigest, size: cfgBytes.length };
    const layers: BlobSpec[] = item.Layers.map((l: unknown, j: number) => {
      if (typeof l !== 'string') throw corrupt(`manifest.json item ${i}: layer ${j} is not a path`);
      const entry = archive.index.resolve(l, 'layer');
      const diffId = diffIds?.[j];
      if (diffId !== undefined && (typeof diffId !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(diffId))) {
        throw corrupt(`config ${item.Config}: diff_ids[${j}] is not a sha256 digest`);
      }
      return { key: `entry:${entry.ordinal}`, entry, size: entry.size, layer: diffId ? { diffId } : {} };
    });
    const { names, skipped } = dockerNames(item.RepoTags, file);
    for (const s of skipped) notes.push(`ignored RepoTag ${s}`);
    for (const n of names) if (n.note) notes.push(`${n.ref}: ${n.note}`);
    images.push({
      names,
      blobs: [configBlob, ...dedupe(layers)],
      children: [],
      top(pushed: ReadonlyMap<string, PushedBlob>) {
        const bytes = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MT_DOCKER_MANIFEST,
            config: { mediaType: MT_DOCKER_CONFIG, size: cfgBytes.length, digest: cfgDigest },
            layers: layers.map((l) => {
              const p = pushed.get(l.key);
              if (!p) throw new Error(`internal: layer ${l.entry?.name} was not pushed`);
              return { mediaType: p.mediaType ?? MT_DOCKER_LAYER_GZIP, size: p.size, digest: p.digest };
            }),
          }),
        );
        return { digest: sha256(bytes), mediaType: MT_DOCKER_MANIFEST, bytes };
      },
    });
  }
  return { format: 'docker-archive', images, notes };
}

function dedupe(blobs: BlobSpec[]): BlobSpec[] {
  const seen = new Set<string>();
  return blobs.filter((b) => (seen.has(b.key) ? false : (seen.add(b.key), true)));
}

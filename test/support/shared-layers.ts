/**
 * Test images that share base layers, as images built FROM one base do: an
 * OCI layout with one tag per image, each image = the shared layers + its
 * own layers + its own config. Pushed with images.ts's `pushImage`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tarOneFile } from './images.js';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export interface SharedLayerImage {
  tag: string;
  digest: string;
  /** Digests of the image's own blobs (its config and own layers). */
  own: string[];
}

export interface SharedLayerImages {
  layout: string;
  /** Digests of the layers every image has. */
  shared: string[];
  images: SharedLayerImage[];
  cleanup(): void;
}

/** `tags.length` images over `sharedSizes` common layers, each with `ownSizes` layers of its own (random, incompressible). */
export function buildSharedLayerImages(tags: string[], sharedSizes: number[], ownSizes: number[]): SharedLayerImages {
  const layout = mkdtempSync(join(tmpdir(), 'ferry-shared-'));
  const dir = join(layout, 'blobs', 'sha256');
  mkdirSync(dir, { recursive: true });
  const write = (b: Buffer) => {
    const digest = sha256(b);
    writeFileSync(join(dir, digest.slice(7)), b);
    return { digest, size: b.length };
  };
  const layer = (name: string, n: number) => {
    const tar = tarOneFile(name, randomBytes(n));
    return { ...write(gzipSync(tar, { level: 1 })), diffId: sha256(tar) };
  };
  const shared = sharedSizes.map((n, i) => layer(`base/${i}.bin`, n));
  const index: { schemaVersion: 2; manifests: object[] } = { schemaVersion: 2, manifests: [] };
  const images = tags.map((tag) => {
    const own = ownSizes.map((n, i) => layer(`${tag}/${i}.bin`, n));
    const layers = [...shared, ...own];
    const config = write(
      Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { tag } }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } })),
    );
    const manifest = write(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: layers.map((l) => ({ mediaType: LAYER, digest: l.digest, size: l.size })),
        }),
      ),
    );
    index.manifests.push({ mediaType: MANIFEST, ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } });
    return { tag, digest: manifest.digest, own: [config.digest, ...own.map((l) => l.digest)] };
  });
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  return { layout, shared: shared.map((l) => l.digest), images, cleanup: () => rmSync(layout, { recursive: true, force: true }) };
}

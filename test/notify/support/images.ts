/**
 * Pushes a one-layer image whose config the test chooses (ports, env,
 * entrypoint, cmd, user, labels) straight through the registry HTTP API of a
 * loopback docker-registry: what the config diff is tested against.
 */
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tarOneFile } from '../../support/images.js';
import type { TestRegistry } from '../../support/registry.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function putBlob(reg: TestRegistry, repo: string, blob: Buffer): Promise<string> {
  const digest = sha(blob);
  const start = await fetch(`${reg.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`upload start ${start.status}`);
  const loc = new URL(start.headers.get('location')!, reg.url);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body: new Uint8Array(blob), headers: { 'content-type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob put ${put.status}`);
  return digest;
}

export interface ImageContract {
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  User?: string;
  Labels?: Record<string, string>;
}

/** Pushes `host/repo:tag`; resolves with the manifest digest. */
export async function pushConfigImage(reg: TestRegistry, repo: string, tag: string, config: ImageContract): Promise<{ ref: string; digest: string }> {
  const tar = tarOneFile('data/x.bin', randomBytes(256));
  const layer = gzipSync(tar);
  const layerDigest = await putBlob(reg, repo, layer);
  const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [sha(tar)] } }));
  const cfgDigest = await putBlob(reg, repo, cfg);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfgDigest, size: cfg.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
    }),
  );
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: new Uint8Array(manifest), headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (res.status !== 201) throw new Error(`manifest put ${res.status}: ${await res.text()}`);
  return { ref: `${reg.host}/${repo}:${tag}`, digest: sha(manifest) };
}

/**
 * Test images built in-process as OCI layouts (no umoci needed), pushed to a
 * real registry with `skopeo copy`, and inspected with `skopeo inspect --raw`
 * (the oracle for what landed).
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);
const REF_NAME = 'org.opencontainers.image.ref.name';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string; variant?: string };
}

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/**
 * Fills in a tar header's checksum field (bytes 148-155) from the other 504
 * bytes; the rest of the header must already be written.
 */
export function sealTarHeader(header: Buffer): Buffer {
  header.write('        ', 148);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return header;
}

/**
 * The 512-byte ustar header of a regular file of `size` bytes (mode 0644,
 * uid/gid/mtime 0). Alone it lets a big file be streamed without holding it:
 * header, content, zero padding to a 512 multiple ({@link tarPadding}).
 */
export function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(size.toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  return sealTarHeader(header);
}

/** The zero bytes that follow `size` bytes of content up to the next 512-byte block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** A one-file ustar archive. */
export function tarOneFile(name: string, content: Buffer): Buffer {
  return Buffer.concat([tarHeader(name, content.length), content, tarPadding(content.length), Buffer.alloc(1024)]);
}

function writeBlob(layout: string, data: Buffer): { digest: string; size: number } {
  const digest = sha256(data);
  const dir = join(layout, 'blobs', 'sha256');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, digest.slice(7)), data);
  return { digest, size: data.length };
}

function readIndex(layout: string): { schemaVersion: 2; manifests: Descriptor[] } {
  const p = join(layout, 'index.json');
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : { schemaVersion: 2, manifests: [] };
}

function tagInIndex(layout: string, tag: string, desc: Descriptor): void {
  const index = readIndex(layout);
  index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag);
  index.manifests.push({ ...desc, annotations: { [REF_NAME]: tag } });
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
}

export interface BuildImageOptions {
  tag: string;
  /** Uncompressed size of each layer's single file (random bytes: incompressible). */
  layerSizes?: number[];
  os?: string;
  architecture?: string;
  /** Extra config label to make otherwise-equal images differ. */
  label?: string;
  /** ISO time for config `created` (strategies like `newest` read it). */
  created?: string;
}

export interface BuiltImage {
  digest: string;
  size: number;
  /** Sum of the layer + config blob sizes. */
  bytes: number;
  layers: string[];
}

/** Adds an image manifest (gzip'd random layers) to the OCI layout at `layout`, tagged `tag`. */
export function buildImage(layout: string, opts: BuildImageOptions): BuiltImage {
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  let bytes = 0;
  (opts.layerSizes ?? [1024]).forEach((n, i) => {
    const tar = tarOneFile(`data/layer${i}.bin`, randomBytes(n));
    diffIds.push(sha256(tar));
    const gz = gzipSync(tar, { level: 1 });
    const b = writeBlob(layout, gz);
    bytes += b.size;
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...b });
  });
  const config = Buffer.from(
    JSON.stringify({
      created: opts.created ?? new Date().toISOString(),
      architecture: opts.architecture ?? 'amd64',
      os: opts.os ?? 'linux',
      config: { Labels: { 'test.label': opts.label ?? randomBytes(4).toString('hex') } },
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  const cfg = writeBlob(layout, config);
  bytes += cfg.size;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
      layers,
    }),
  );
  const m = writeBlob(layout, manifest);
  tagInIndex(layout, opts.tag, { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m });
  return { ...m, bytes, layers: layers.map((l) => l.digest) };
}

/** Wraps already-built per-platform images into an OCI index tagged `tag`. */
export function buildIndex(
  layout: string,
  tag: string,
  children: { image: BuiltImage; os: string; architecture: string; variant?: string }[],
): { digest: string; size: number } {
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: children.map((c) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: c.image.digest,
        size: c.image.size,
        platform: { os: c.os, architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) },
      })),
    }),
  );
  const d = writeBlob(layout, index);
  tagInIndex(layout, tag, { mediaType: 'application/vnd.oci.image.index.v1+json', ...d });
  return d;
}

export interface Creds {
  username: string;
  password: string;
}

/** `skopeo copy oci:LAYOUT:TAG docker://DST` (with `--all` for an index), plain HTTP. */
export async function pushImage(layout: string, tag: string, dst: string, creds?: Creds): Promise<void> {
  const args = ['copy', '-q', '--all', '--preserve-digests', '--dest-tls-verify=false'];
  if (creds) args.push('--dest-creds', `${creds.username}:${creds.password}`);
  args.push(`oci:${layout}:${tag}`, `docker://${dst}`);
  await run('skopeo', args, { maxBuffer: 16 * 1024 * 1024 });
}

/** Raw manifest bytes at `ref` and their digest, or undefined when absent. */
export async function inspectRaw(ref: string, creds?: Creds): Promise<{ digest: string; manifest: any } | undefined> {
  const args = ['inspect', '--raw', '--tls-verify=false'];
  if (creds) args.push('--creds', `${creds.username}:${creds.password}`);
  args.push(`docker://${ref}`);
  try {
    const { stdout } = await run('skopeo', args, { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 });
    return { digest: sha256(stdout), manifest: JSON.parse(stdout.toString('utf8')) };
  } catch (e) {
    const msg = String((e as { stderr?: Buffer }).stderr ?? e);
    if (/manifest unknown|not found|MANIFEST_UNKNOWN|NAME_UNKNOWN/i.test(msg)) return undefined;
    throw e;
  }
}

/**
 * Building blocks for copy benchmarks (also for the worker-pool bench, part 2):
 * big OCI images built fast (random bytes in store-only gzip: valid gzip for
 * skopeo, no compression cost), fresh loopback registries, and timed copies
 * with ferry's engine, skopeo, and a raw streamed curl GET|PUT pipeline.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { FerryConfig } from '../../src/config/types.js';
import { RegistryEngine, type CopyResult } from '../../src/registry/index.js';
import { pushImage, tarHeader } from '../../test/support/images.js';
import { startRegistry, type TestRegistry } from '../../test/support/registry.js';

export { pushImage, startRegistry, type TestRegistry };
const run = promisify(execFile);

export const MiB = 1024 * 1024;

export function benchConfig(copy: Partial<FerryConfig['copy']> = {}): FerryConfig {
  const c = structuredClone(DEFAULTS);
  c.copy = { ...c.copy, requestsPerSecond: 0, ...copy };
  return c;
}

/** Streams a one-file tar (random content) through store-only gzip into the layout; returns descriptor + diffID. */
async function writeLayer(layout: string, size: number, name: string): Promise<{ digest: string; size: number; diffId: string }> {
  const dir = join(layout, 'blobs', 'sha256');
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const out = createWriteStream(tmp);
  const gz = createGzip({ level: 0 });
  const blobHash = createHash('sha256');
  const diffHash = createHash('sha256');
  let blobSize = 0;
  gz.on('data', (c: Buffer) => {
    blobHash.update(c);
    blobSize += c.length;
    if (!out.write(c)) gz.pause();
  });
  out.on('drain', () => gz.resume());
  const ended = once(gz, 'end');
  const write = async (b: Buffer) => {
    diffHash.update(b);
    if (!gz.write(b)) await once(gz, 'drain');
  };
  await write(tarHeader(name, size));
  const chunk = Buffer.allocUnsafe(4 * MiB);
  for (let left = size; left > 0; ) {
    const n = Math.min(left, chunk.length);
    randomFillSync(chunk, 0, n);
    await write(Buffer.from(chunk.subarray(0, n)));
    left -= n;
  }
  await write(Buffer.alloc((512 - (size % 512)) % 512 + 1024));
  gz.end();
  await ended;
  out.end();
  await once(out, 'finish');
  const digest = `sha256:${blobHash.digest('hex')}`;
  renameSync(tmp, join(dir, digest.slice(7)));
  return { digest, size: blobSize, diffId: `sha256:${diffHash.digest('hex')}` };
}

function writeJsonBlob(layout: string, obj: unknown): { digest: string; size: number } {
  const b = Buffer.from(JSON.stringify(obj));
  const digest = `sha256:${createHash('sha256').update(b).digest('hex')}`;
  writeFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)), b);
  return { digest, size: b.length };
}

export interface BigImage {
  layout: string;
  tag: string;
  digest: string;
  /** Bytes of all blobs (layers + config). */
  bytes: number;
  layers: number;
}

/** An OCI layout holding one image of `layers` random layers of `layerSize` bytes each, tagged `tag`. */
export async function buildBigImage(opts: { layers: number; layerSize: number; tag?: string; dir?: string }): Promise<BigImage> {
  const layout = opts.dir ?? mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  const tag = opts.tag ?? 'v1';
  const layerDescs: { mediaType: string; digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  let bytes = 0;
  // build layers 2 at a time (gzip level 0 is cheap; random generation dominates)
  const results: Awaited<ReturnType<typeof writeLayer>>[] = new Array(opts.layers);
  for (let i = 0; i < opts.layers; i += 2) {
    await Promise.all(
      [i, i + 1].filter((k) => k < opts.layers).map(async (k) => {
        results[k] = await writeLayer(layout, opts.layerSize, `data/layer${k}.bin`);
      }),
    );
  }
  for (const r of results) {
    layerDescs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: r.digest, size: r.size });
    diffIds.push(r.diffId);
    bytes += r.size;
  }
  const cfg = writeJsonBlob(layout, {
    created: new Date().toISOString(),
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: diffIds },
  });
  bytes += cfg.size;
  const manifest = writeJsonBlob(layout, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
    layers: layerDescs,
  });
  const indexPath = join(layout, 'index.json');
  const index = existsSync(indexPath) ? JSON.parse(readFileSync(indexPath, 'utf8')) : { schemaVersion: 2, manifests: [] };
  index.manifests = index.manifests.filter((m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'] !== tag);
  index.manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } });
  writeFileSync(indexPath, JSON.stringify(index));
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  return { layout, tag, digest: manifest.digest, bytes, layers: opts.layers };
}

export async function timeIt<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs `fn` against a brand-new destination registry, then stops it. */
export async function withFreshRegistry<T>(fn: (reg: TestRegistry) => Promise<T>): Promise<T> {
  const reg = await startRegistry();
  try {
    return await fn(reg);
  } finally {
    await reg.stop();
  }
}

/** In-process engine copy (a fresh engine: no warm caches). */
export async function ferryCopy(src: string, dst: string, copy: Partial<FerryConfig['copy']> = {}): Promise<CopyResult> {
  const engine = new RegistryEngine({ config: benchConfig({ platforms: [], ...copy }) });
  try {
    return await engine.copy({ src, dst });
  } finally {
    await engine.close();
  }
}

export async function skopeoCopy(src: string, dst: string): Promise<void> {
  await run('skopeo', ['copy', '-q', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${src}`, `docker://${dst}`], { maxBuffer: 16 * MiB });
}

const CURL_COPY = `#!/bin/bash
# curlcopy.sh P SRC_HOST SRC_REPO TAG DST_HOST DST_REPO : blobs P at a time (GET | PUT), then the manifest bytes
set -euo pipefail; P=$1; export S=$2 SR=$3 D=$5 DR=$6; TAG=$4; MT='application/vnd.oci.image.manifest.v1+json'
MF=$(mktemp); curl -fsS -H "Accept: $MT" -o "$MF" "http://$S/v2/$SR/manifests/$TAG"
copyblob() {
  local loc; loc=$(curl -fsS -X POST -D - -o /dev/null "http://$D/v2/$DR/blobs/uploads/" | awk -F': ' 'tolower($1)=="location"{print $2}' | tr -d '\\r')
  curl -fsS "http://$S/v2/$SR/blobs/$1" | curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' -T - "$loc&digest=$1"
}
export -f copyblob
jq -r '.config.digest, .layers[].digest' "$MF" | xargs -P"$P" -I{} bash -c 'copyblob {}'
curl -fsS -o /dev/null -X PUT -H "Content-Type: $MT" --data-binary @"$MF" "http://$D/v2/$DR/manifests/$TAG"; rm -f "$MF"
`;

let curlScript: string | undefined;

/** Removes temp files made by this module (the curl script). */
export function cleanupBenchTemp(): void {
  if (curlScript) rmSync(dirname(curlScript), { recursive: true, force: true });
  curlScript = undefined;
}

/** Raw streamed pipeline (registry-recipes section 8): curl GET | curl PUT per blob, `parallel` at a time. */
export async function curlCopy(parallel: number, srcHost: string, srcRepo: string, tag: string, dstHost: string, dstRepo: string): Promise<void> {
  if (!curlScript) {
    curlScript = join(mkdtempSync(join(tmpdir(), 'ferry-curl-')), 'curlcopy.sh');
    writeFileSync(curlScript, CURL_COPY, { mode: 0o755 });
  }
  await run('bash', [curlScript, String(parallel), srcHost, srcRepo, tag, dstHost, dstRepo], { maxBuffer: 16 * MiB });
}

/** Peak RSS (kB) of a child: max of VmHWM reported by the child and VmRSS sampled every 20 ms. */
export async function runWithPeakRss(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; peakKb: number; ms: number }> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  let peakKb = 0;
  const timer = setInterval(() => {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      /* exited */
    }
  }, 20);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(timer);
  const hwm = /"vmHwmKb":(\d+)/.exec(stdout);
  if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
  return { code, stdout, stderr, peakKb, ms: performance.now() - t0 };
}

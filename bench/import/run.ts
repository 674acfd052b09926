/**
 * Import bench: a 1 GiB image archive (one random, incompressible layer)
 * imported by a child process (`importFile`, what `ferry import FILE` runs)
 * into a fresh loopback registry, per format. Prints peak RSS of the importing
 * process against a 150 MB target, and MB/s (archive bytes / wall time).
 *
 *   node --import tsx bench/import/run.ts [--size-mib 1024] [--cases docker,docker-raw,oci,oci-gz] [--runner dist|tsx]
 *
 * `--runner dist` (default) compiles the child and src/ with tsc into the
 * bench's temp dir (outside the repo, removed afterwards) and runs plain JS,
 * as `npx ferry import` does; `tsx` runs the TypeScript through the tsx loader, which alone
 * adds ~35 MB of RSS.
 *
 * Archives are built fast, without skopeo: the layer is an AES-CTR keystream
 * (reproducible, so its digest is computed in a first pass and the bytes
 * generated again while writing), tar headers written by hand. The gzip'd
 * case uses a store-only gzip (level 0): random data does not deflate anyway,
 * so inflate cost is the same as for level 1, and building it takes seconds.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { startRedis } from '../../test/support/redis.js';
import { compileChild } from '../compile-child.js';
import { layerTar, layerTarSize, tarEntry } from '../support/archive-stream.js';
import { startRegistry } from '../../test/support/registry.js';
import { benchOption } from '../support/args.js';

const MiB = 1024 * 1024;
const TARGET_MB = 150;
const opt = benchOption;
const sizeMiB = Number(opt('size-mib', '1024'));
const cases = opt('cases', 'docker,docker-raw,oci,oci-gz').split(',');
const runner = opt('runner', 'dist');

let childScript = join(import.meta.dirname, 'child.ts');


const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function build(dir: string, payload: number) {
  const t0 = performance.now();
  const h = createHash('sha256');
  for await (const c of layerTar(payload)) h.update(c);
  const diffHex = h.digest('hex');
  const lsize = layerTarSize(payload);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [`sha256:${diffHex}`] } }),
  );
  const cfgHex = sha(config);

  const docker = join(dir, 'big-docker.tar');
  const dmanifest = Buffer.from(JSON.stringify([{ Config: `${cfgHex}.json`, RepoTags: ['bench/big:docker'], Layers: [`${diffHex}.tar`] }]));
  await pipeline(
    Readable.from(
      (async function* () {
        yield* tarEntry(`${diffHex}.tar`, lsize, layerTar(payload));
        yield* tarEntry(`${cfgHex}.json`, config.length, config);
        yield* tarEntry('manifest.json', dmanifest.length, dmanifest);
        yield Buffer.alloc(1024);
      })(),
    ),
    createWriteStream(docker),
  );

  const oci = join(dir, 'big-oci.tar');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${cfgHex}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${diffHex}`, size: lsize }],
    }),
  );
  const mHex = sha(manifest);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${mHex}`,
          size: manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': 'docker.io/bench/big:oci' },
        },
      ],
    }),
  );
  const layout = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
  const ociEntries = async function* () {
    yield* tarEntry('oci-layout', layout.length, layout);
    yield* tarEntry(`blobs/sha256/${diffHex}`, lsize, layerTar(payload));
    yield* tarEntry(`blobs/sha256/${cfgHex}`, config.length, config);
    yield* tarEntry(`blobs/sha256/${mHex}`, manifest.length, manifest);
    yield* tarEntry('index.json', index.length, index);
    yield Buffer.alloc(1024);
  };
  await pipeline(Readable.from(ociEntries()), createWriteStream(oci));
  const ociGz = join(dir, 'big-oci.tar.gz');
  if (cases.includes('oci-gz')) await pipeline(Readable.from(ociEntries()), createGzip({ level: 0 }), createWriteStream(ociGz));
  return { docker, oci, ociGz, manifestDigest: `sha256:${mHex}`, ms: performance.now() - t0 };
}

interface ChildOut {
  ok?: boolean;
  error?: string;
  digest?: string;
  blobsPushed?: number;
  bytesPushed?: number;
  ms?: number;
  vmHwmKb: number;
}

/** Runs the child, sampling its RSS every 50 ms as a cross-check of VmHWM. */
async function child(args: object): Promise<ChildOut & { sampledPeakKb: number }> {
  const nodeArgs = runner === 'tsx' ? ['--import', 'tsx', childScript] : [childScript];
  const p = spawn(process.execPath, [...nodeArgs, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0);
      if (kb > peak) peak = kb;
    } catch {
      /* exited */
    }
  }, 50);
  const code = await new Promise<number>((resolve) => p.on('exit', (c) => resolve(c ?? 1)));
  clearInterval(timer);
  if (code !== 0) throw new Error(`child exited with ${code}: ${out}`);
  return { ...(JSON.parse(out.trim().split('\n').pop()!) as ChildOut), sampledPeakKb: peak };
}

const dir = mkdtempSync(join(tmpdir(), 'ferry-import-bench-'));
const redis = await startRedis();
try {
  if (runner === 'dist') {
    console.log('compiling the child with tsc ...');
    childScript = await compileChild(join(import.meta.dirname, 'child.ts'), join(dir, 'build'));
  }
  console.log(`building a ${sizeMiB} MiB archive per format in ${dir} ...`);
  const built = await build(dir, sizeMiB * MiB);
  console.log(`built in ${(built.ms / 1000).toFixed(1)} s`);
  const base = await child({ baseline: true, registry: '127.0.0.1:1', redisUrl: redis.url, prefix: 'bench-base' });
  const rows: Record<string, unknown>[] = [];
  const plan: [string, string, 'gzip' | 'none'][] = [
    ['docker', built.docker, 'gzip'],
    ['docker-raw', built.docker, 'none'],
    ['oci', built.oci, 'gzip'],
    ['oci-gz', built.ociGz, 'gzip'],
  ];
  for (const [name, file, layerCompression] of plan) {
    if (!cases.includes(name)) continue;
    const registry = await startRegistry();
    try {
      const r = await child({ file, registry: registry.host, redisUrl: redis.url, prefix: `bench-${name}`, layerCompression });
      if (!r.ok) throw new Error(`${name}: ${r.error}`);
      const mb = statSync(file).size / 1e6;
      const peakMb = r.vmHwmKb / 1024;
      rows.push({
        case: name,
        archiveMB: Math.round(mb),
        seconds: +(r.ms! / 1000).toFixed(1),
        'MB/s': Math.round(mb / (r.ms! / 1000)),
        pushedMB: Math.round((r.bytesPushed ?? 0) / 1e6),
        peakRssMB: +peakMb.toFixed(1),
        sampledPeakMB: +(r.sampledPeakKb / 1024).toFixed(1),
        targetMB: TARGET_MB,
        result: peakMb <= TARGET_MB ? 'PASS' : 'FAIL',
        ...(name.startsWith('oci') ? { sameDigest: r.digest === built.manifestDigest } : {}),
      });
    } finally {
      await registry.stop();
    }
  }
  console.log(`runner: ${runner}; baseline (modules loaded, Redis connected, nothing imported): peak RSS ${(base.vmHwmKb / 1024).toFixed(1)} MB`);
  console.table(rows);
  writeFileSync(join(import.meta.dirname, 'last-run.json'), JSON.stringify({ at: new Date().toISOString(), sizeMiB, runner, baselineMB: base.vmHwmKb / 1024, rows }, null, 2) + '\n');
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}

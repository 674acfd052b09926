/**
 * Worker pool vs. sequential `skopeo copy`:
 *   node --import tsx bench/pool/run.ts [--images 50] [--concurrency 8]
 *
 * 50 images of 3 random (incompressible) 1 MiB layers are pushed to a local
 * upstream registry; then (a) they are enqueued through the Producer and
 * copied by one worker pool into a fresh mirror, timed from the first enqueue
 * to the last `mirrored` event, and (b) copied one after another with
 * `skopeo copy` into another fresh registry. Both mirrors are checked against
 * the upstream digests. Everything is on loopback (docker-registry, redis-server).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { DEFAULTS, type FerryConfig } from '../../src/config/index.js';
import { connectRedis, createQueue, ImageStore, Producer, decodeEvent } from '../../src/queue/index.js';
import { RegistryEngine } from '../../src/registry/index.js';
import { createWorkerPool } from '../../src/worker/index.js';
import { buildImage, inspectRaw, pushImage } from '../../test/support/images.js';
import { startRedis } from '../../test/support/redis.js';
import { startRegistry } from '../../test/support/registry.js';

const run = promisify(execFile);
const { values: args } = parseArgs({ options: { images: { type: 'string', default: '50' }, concurrency: { type: 'string', default: '8' }, profile: { type: 'string' } } });
const N = Number(args.images);
const CONCURRENCY = Number(args.concurrency);
const MiB = 1024 * 1024;

/** CPU ms (user + system) a child process used so far, from /proc (Linux). */
function cpuMsOf(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

async function inBatches<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

const [redis, upstream, mirrorPool, mirrorSkopeo] = await Promise.all([startRedis(), startRegistry(), startRegistry(), startRegistry()]);
const work = mkdtempSync(join(tmpdir(), 'ferry-bench-pool-'));
try {
  // ---- setup (not timed)
  process.stdout.write(`building and pushing ${N} images (3 x 1 MiB layers each)...\n`);
  const images = Array.from({ length: N }, (_, i) => ({ repo: `bench/img${i}`, tag: '1', layout: join(work, `l${i}`), digest: '' }));
  for (const im of images) im.digest = buildImage(im.layout, { tag: im.tag, layerSizes: [MiB, MiB, MiB] }).digest;
  await inBatches(images, 4, (im) => pushImage(im.layout, im.tag, `${upstream.host}/${im.repo}:${im.tag}`));
  const refOf = (im: (typeof images)[number]) => `${upstream.host}/${im.repo}:${im.tag}`;
  const mirrorRefOf = (host: string, im: (typeof images)[number]) => `${host}/up/${im.repo}:${im.tag}`;

  // ---- (a) worker pool
  const config: FerryConfig = structuredClone(DEFAULTS);
  config.mirror = { registry: mirrorPool.host, insecure: true, prefix: '' };
  config.queue = { ...config.queue, prefix: 'bench', concurrency: CONCURRENCY };
  // single-platform images; no per-registry politeness budget on loopback (skopeo has none either)
  config.copy = { ...config.copy, platforms: [], requestsPerSecond: 0 };
  const logger = pino({ level: 'warn' });
  const conn = connectRedis(redis.url);
  const workerConn = connectRedis(redis.url);
  const sub = connectRedis(redis.url);
  const store = new ImageStore(conn, 'bench');
  const queue = createQueue(conn, 'bench');
  const producer = new Producer({ store, queue, maxAttempts: () => config.queue.maxAttempts, bufferLimit: 10_000 });
  const engine = new RegistryEngine({ config, logger });
  const pool = createWorkerPool({ connection: workerConn, store, config, engine, logger, countsIntervalMs: 0 });
  await pool.worker.waitUntilReady();
  const pending = new Set(images.map(refOf));
  let failed = 0;
  const allDone = new Promise<void>((resolve) => {
    sub.on('message', (_c: string, m: string) => {
      const ev = decodeEvent(m);
      if (ev?.type !== 'state' || !pending.has(ev.ref)) return;
      if (ev.record.state === 'error') {
        failed++;
        process.stderr.write(`error: ${ev.ref}: ${ev.record.lastError}\n`);
      }
      if (ev.record.state === 'mirrored' || ev.record.state === 'error') {
        pending.delete(ev.ref);
        if (pending.size === 0) resolve();
      }
    });
  });
  await sub.subscribe(store.k.events);
  // --profile FILE: CPU profile of this process during the pool run only (open in Chrome DevTools)
  const session = args.profile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const regCpu0 = [cpuMsOf(upstream.child.pid), cpuMsOf(mirrorPool.child.pid)];
  const t0 = performance.now();
  for (const im of images) producer.enqueue({ ref: refOf(im), mirrorRef: mirrorRefOf(mirrorPool.host, im), source: 'api' });
  await allDone;
  const poolMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (session && args.profile) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(args.profile, JSON.stringify(profile));
    session.disconnect();
  }
  const regCpu = [cpuMsOf(upstream.child.pid) - regCpu0[0]!, cpuMsOf(mirrorPool.child.pid) - regCpu0[1]!];
  const poolCpu = `CPU during the pool run: ferry ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, upstream registry ${regCpu[0]!.toFixed(0)} ms, mirror registry ${regCpu[1]!.toFixed(0)} ms`;
  await pool.close();
  await Promise.all([producer.close(), queue.close(), engine.close()]);
  for (const c of [conn, workerConn, sub]) c.disconnect();

  // ---- (b) sequential skopeo copy
  const regCpu1 = [cpuMsOf(upstream.child.pid), cpuMsOf(mirrorSkopeo.child.pid)];
  let skopeoCpuMs = 0;
  const t1 = performance.now();
  for (const im of images) {
    // GNU time reports skopeo's own CPU (user + system seconds) on stderr
    const { stderr } = await run('/usr/bin/time', ['-f', 'CPU %U %S', 'skopeo', 'copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${refOf(im)}`, `docker://${mirrorRefOf(mirrorSkopeo.host, im)}`]);
    const m = /CPU ([\d.]+) ([\d.]+)/.exec(stderr);
    if (m) skopeoCpuMs += (Number(m[1]) + Number(m[2])) * 1000;
  }
  const skopeoMs = performance.now() - t1;
  const regCpuS = [cpuMsOf(upstream.child.pid) - regCpu1[0]!, cpuMsOf(mirrorSkopeo.child.pid) - regCpu1[1]!];
  const skopeoCpu = `CPU during the skopeo run: skopeo ${skopeoCpuMs.toFixed(0)} ms, upstream registry ${regCpuS[0]!.toFixed(0)} ms, mirror registry ${regCpuS[1]!.toFixed(0)} ms`;

  // ---- verify both mirrors
  let mismatches = 0;
  await inBatches(images, 8, async (im) => {
    const [a, b] = await Promise.all([inspectRaw(mirrorRefOf(mirrorPool.host, im)), inspectRaw(mirrorRefOf(mirrorSkopeo.host, im))]);
    if (a?.digest !== im.digest || b?.digest !== im.digest) mismatches++;
  });

  const mib = (N * 3 * MiB) / MiB;
  const line = (name: string, ms: number) => `${name.padEnd(28)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${(mib / (ms / 1000)).toFixed(1).padStart(7)} MiB/s  ${(ms / N).toFixed(0).padStart(5)} ms/image`;
  process.stdout.write(
    [
      `images: ${N} x 3 x 1 MiB (${mib} MiB), pool concurrency ${CONCURRENCY}, layerConcurrency ${config.copy.layerConcurrency}`,
      line(`worker pool (ferry)`, poolMs),
      line(`sequential skopeo copy`, skopeoMs),
      `ratio (skopeo / pool):      ${(skopeoMs / poolMs).toFixed(2)}x  (target >= 4x)`,
      poolCpu,
      skopeoCpu,
      `machine: ${availableParallelism()} CPUs, load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`,
      `failed: ${failed}, digest mismatches: ${mismatches}`,
      '',
    ].join('\n'),
  );
  if (failed || mismatches) process.exitCode = 1;
} finally {
  await Promise.all([redis.stop(), upstream.stop(), mirrorPool.stop(), mirrorSkopeo.stop()]);
  rmSync(work, { recursive: true, force: true });
}

/**
 * No-op re-sync benchmark (issue 14: "an unchanged re-sync costs one request"):
 *   node --import tsx bench/resync/run.ts [--rtt-ms 50] [--images 50] [--quick]
 *
 * N images (default 50) of 3 distinct random 1 MiB layers (as
 * bench/far-upstream builds them, with the same test/support/images.ts
 * helpers) in a loopback docker-registry reached only through the userspace
 * latency proxy (bench/support/latency-proxy.ts, 50 ms RTT), with a
 * request-log proxy (test/support/request-log-proxy.ts) behind it for exact
 * per-kind counts, and one in front of the mirror. All N are mirrored first
 * by ferry's own worker pool (DEFAULT settings). Nothing changes upstream
 * afterwards; then, each timed and counted:
 *  (a) drift refresh (`runRefresh`, the code the maintenance role runs on
 *      `refresh.schedule`) with DEFAULT settings: `refresh.inUseOnly: true`,
 *      so the in-use index says a pod runs each image (as the pod tracker
 *      writes it). Once with a fresh engine (a process's first run: the
 *      `/v2/` ping comes on top), then warm (the steady state: median of 3);
 *  (b) the watch poll path: one `digest` watch per image (Watcher.poll, what
 *      a scheduled tick runs), 4 polls at a time (the scheduler's default
 *      per process), after a first (initial) poll that is not counted;
 *  (d) ferry's worker given all N again (`force` re-enqueue, what the queue
 *      does when a refresh, a watch or an operator asks for an unchanged
 *      image): the copy's up-to-date path, incl. the referrer step (defaults);
 *  (c) `skopeo copy` of each image again into the already-populated mirror,
 *      one after another and 8 at a time.
 * Prints upstream (and mirror) requests per image, total time, and ratios;
 * writes bench/out/resync.json. The upstream here has no auth (as in
 * bench/far-upstream); the token case is in test/refresh/unchanged-cost.test.ts.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { pino } from 'pino';
import { DEFAULTS, type FerryConfig } from '../../src/config/index.js';
import { InUseStore } from '../../src/in-use/index.js';
import { connectRedis, createQueue, decodeEvent, ImageStore, Producer } from '../../src/queue/index.js';
import { toMirrorReference } from '../../src/reference/mirror.js';
import { runRefresh } from '../../src/refresh/index.js';
import { RegistryEngine } from '../../src/registry/index.js';
import { Watcher } from '../../src/watch/index.js';
import { createWorkerPool } from '../../src/worker/index.js';
import { buildImage, pushImage } from '../../test/support/images.js';
import { startRedis } from '../../test/support/redis.js';
import { startRegistry } from '../../test/support/registry.js';
import { startRequestLogProxy, type RequestLogProxy } from '../../test/support/request-log-proxy.js';
import { startLatencyProxy } from '../support/latency-proxy.js';

const run = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    'rtt-ms': { type: 'string', default: '50' },
    images: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const RTT = Number(args['rtt-ms']);
const N = Number(args.images ?? (args.quick ? 10 : 50));
const MiB = 1024 * 1024;
const PREFIX = 'ferry';
const log = (s: string) => process.stderr.write(`${s}\n`);
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const logger = pino({ level: 'warn' });

async function inBatches<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Row {
  name: string;
  ms: number;
  upstream: Record<string, number>;
  upstreamRequests: number;
  mirrorRequests: number;
  note?: string;
}

const cleanups: (() => Promise<void> | void)[] = [];
const work = mkdtempSync(join(tmpdir(), 'ferry-bench-resync-'));
cleanups.push(() => rmSync(work, { recursive: true, force: true }));
const out: Record<string, unknown> = { images: N, layersPerImage: 3, layerBytes: MiB, rttMs: RTT };
try {
  try {
    out.commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    /* not a checkout */
  }
  const [upstream, mirror, redis] = await Promise.all([startRegistry(), startRegistry(), startRedis()]);
  cleanups.push(() => upstream.stop(), () => mirror.stop(), () => redis.stop());
  const upstreamLog = await startRequestLogProxy(upstream.host);
  const far = await startLatencyProxy(upstreamLog.host, RTT);
  const mirrorLog = await startRequestLogProxy(mirror.host);
  cleanups.push(() => far.close(), () => upstreamLog.close(), () => mirrorLog.close());

  log(`building and pushing ${N} images (3 x 1 MiB distinct random layers each)...`);
  const images = Array.from({ length: N }, (_, i) => ({ repo: `bench/img${i}`, tag: '1', layout: join(work, `l${i}`), digest: '' }));
  for (const im of images) im.digest = buildImage(im.layout, { tag: im.tag, layerSizes: [MiB, MiB, MiB] }).digest;
  await inBatches(images, 4, (im) => pushImage(im.layout, im.tag, `${upstream.host}/${im.repo}:${im.tag}`));

  // DEFAULTS, but for where the registries and Redis are (and the watches of (b)).
  const config: FerryConfig = structuredClone(DEFAULTS);
  config.queue = { ...config.queue, redisUrl: redis.url, prefix: PREFIX };
  config.mirror = { registry: mirrorLog.host, insecure: true, prefix: '' };
  config.registries = { [far.host]: { insecure: true } };
  config.log = { level: 'warn' };
  const refOf = (im: (typeof images)[number]) => `${far.host}/${im.repo}:${im.tag}`;
  const mirrorRefOf = (ref: string) => toMirrorReference(ref, { registry: mirrorLog.host, prefix: '' });
  out.ferryConfig = { queue: { redisUrl: '<fresh redis-server>', prefix: PREFIX }, mirror: config.mirror, registries: config.registries };
  out.ferryEffective = { copy: config.copy, refresh: config.refresh, queue: { concurrency: config.queue.concurrency } };

  const conn = connectRedis(redis.url);
  const sub = connectRedis(redis.url);
  const workerConn = connectRedis(redis.url);
  cleanups.push(() => void [conn, sub, workerConn].forEach((c) => c.disconnect()));
  const store = new ImageStore(conn, PREFIX);
  const queue = createQueue(conn, PREFIX);
  const producer = new Producer({ store, queue, maxAttempts: () => config.queue.maxAttempts, bufferLimit: 10_000 });
  cleanups.push(async () => {
    await producer.close();
    await queue.close();
  });
  const mirroredEvents = new Map<string, () => void>();
  sub.on('message', (_c: string, m: string) => {
    const ev = decodeEvent(m);
    if (ev?.type !== 'state') return;
    if (ev.record.state === 'mirrored' || ev.record.state === 'error') {
      if (ev.record.state === 'error') log(`  copy error: ${ev.ref}: ${ev.record.lastError}`);
      mirroredEvents.get(ev.ref)?.();
    }
  });
  await sub.subscribe(store.k.events);
  /** Enqueues all N (force: even when mirrored) and resolves when every one is mirrored (or failed). */
  const copyAll = async (force: boolean): Promise<void> => {
    const done = images.map((im) => new Promise<void>((resolve) => mirroredEvents.set(refOf(im), resolve)));
    for (const im of images) await producer.enqueueNow({ ref: refOf(im), mirrorRef: mirrorRefOf(refOf(im)), source: 'api', ...(force ? { force: true } : {}) });
    await Promise.all(done);
  };
  const counted = async (fn: () => Promise<void>): Promise<Omit<Row, 'name'>> => {
    upstreamLog.reset();
    mirrorLog.reset();
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    return { ms, upstream: upstreamLog.kinds(), upstreamRequests: upstreamLog.requests.length, mirrorRequests: mirrorLog.requests.length };
  };
  const rows: Row[] = [];

  // ---- populate: ferry's worker pool mirrors all N (not a contestant)
  const workerEngine = new RegistryEngine({ config, logger });
  const pool = createWorkerPool({ connection: workerConn, store, config, engine: workerEngine, logger, countsIntervalMs: 0 });
  const populate = await counted(() => copyAll(false));
  log(`populated the mirror: ${fmt(populate.ms)}, ${(populate.upstreamRequests / N).toFixed(1)} upstream requests/image`);
  out.populate = populate;

  // ---- (a) drift refresh, defaults (inUseOnly: a pod runs each image)
  const inUse = new InUseStore(conn, PREFIX);
  for (const [i, im] of images.entries()) {
    const ref = refOf(im);
    await inUse.setPod('shop', `web-${i}`, [{ namespace: 'shop', pod: `web-${i}`, container: 'app', list: 'containers', node: 'node-a', image: mirrorRefOf(ref), ref, digest: im.digest, rewritten: true }]);
  }
  await inUse.heartbeat(10 * 60_000, { synced: true });
  const refreshEngine = new RegistryEngine({ config, logger });
  cleanups.push(() => refreshEngine.close());
  const refreshOnce = async () => {
    const report = await runRefresh({ config: () => config, redis: conn, store, producer, engine: refreshEngine, inUse, mirrorRefOf, logger });
    if (report.checked !== N || report.moved !== 0 || report.errors !== 0) throw new Error(`refresh did not check ${N} unchanged tags: ${JSON.stringify(report)}`);
  };
  rows.push({ name: 'ferry refresh, first run of a process (defaults)', ...(await counted(refreshOnce)) });
  const warm: Omit<Row, 'name'>[] = [];
  for (let i = 0; i < 3; i++) warm.push(await counted(refreshOnce));
  const warmMed = warm.find((w) => w.ms === median(warm.map((x) => x.ms)))!;
  rows.push({ name: 'ferry refresh, steady state (defaults, median of 3)', ...warmMed, note: `runs ${warm.map((w) => fmt(w.ms)).join(', ')}` });

  // ---- (d) the worker given all N again: the copy's up-to-date path
  rows.push({ name: 'ferry worker, all re-enqueued (force), up-to-date path', ...(await counted(() => copyAll(true))) });
  await pool.close();
  await workerEngine.close();

  // ---- (b) the watch poll path: one digest watch per image
  config.watch = images.map((im, i) => ({ id: `img${i}`, image: `${far.host}/${im.repo}`, tag: im.tag, strategy: 'digest' as const, schedule: '0 0 1 1 *' }));
  const watchEngine = new RegistryEngine({ config, logger });
  cleanups.push(() => watchEngine.close());
  const watcher = new Watcher({ config: () => config, redis: conn, store, producer, engine: watchEngine, logger, mirrorRefOf });
  cleanups.push(() => watcher.close());
  const pollAll = async (want: string) => {
    await inBatches(images.map((_im, i) => `img${i}`), 4, async (id) => {
      const r = await watcher.poll(id, 'api');
      if (r?.result !== want) throw new Error(`watch ${id}: ${r?.result} (${r?.error?.message ?? r?.reason}), expected ${want}`);
    });
  };
  await pollAll('initial'); // not counted: it selects, and enqueues a copy (left queued: no worker runs now)
  rows.push({ name: 'ferry watch polls, digest strategy (4 at a time)', ...(await counted(() => pollAll('unchanged'))) });

  // ---- (c) skopeo re-copy into the populated mirror
  const mirrorPath = (im: (typeof images)[number]) => mirrorRefOf(refOf(im)).slice(mirrorLog.host.length + 1);
  for (const parallel of [1, 8]) {
    const r = await counted(() =>
      inBatches(images, parallel, async (im) => {
        await run('skopeo', ['copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${refOf(im)}`, `docker://${mirrorLog.host}/${mirrorPath(im)}`], { maxBuffer: 16 * MiB });
      }),
    );
    rows.push({ name: parallel === 1 ? 'skopeo copy again, sequential loop' : 'skopeo copy again, 8 at a time', ...r });
  }

  // ---- report
  const byName = (prefix: string) => rows.find((r) => r.name.startsWith(prefix))!;
  const refresh = byName('ferry refresh, steady');
  const watch = byName('ferry watch');
  const loop = byName('skopeo copy again, sequential');
  const x8 = byName('skopeo copy again, 8');
  const ratios = {
    loopOverRefreshTime: loop.ms / refresh.ms,
    x8OverRefreshTime: x8.ms / refresh.ms,
    x8OverWatchTime: x8.ms / watch.ms,
    loopOverRefreshRequests: loop.upstreamRequests / refresh.upstreamRequests,
    x8OverRefreshRequests: x8.upstreamRequests / refresh.upstreamRequests,
  };
  out.rows = rows;
  out.ratios = ratios;
  console.log(`\nferry no-op re-sync bench — ${N} unchanged images (3 x 1 MiB) behind a ${RTT} ms RTT latency proxy, already mirrored; commit ${out.commit ?? '?'}; ${availableParallelism()} CPUs, load avg ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`ferry settings: DEFAULTS (copy.requestsPerSecond ${config.copy.requestsPerSecond}, refresh ${JSON.stringify(config.refresh)}, queue.concurrency ${config.queue.concurrency})\n`);
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    const kinds = Object.entries(r.upstream).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / N).toFixed(2)}`).join(', ');
    console.log(`${r.name.padEnd(w)}  ${fmt(r.ms).padStart(8)}  ${(r.upstreamRequests / N).toFixed(2).padStart(5)} upstream req/image (${kinds}); mirror ${(r.mirrorRequests / N).toFixed(2)} req/image${r.note ? `; ${r.note}` : ''}`);
  }
  console.log(`\nratios: time skopeo loop / refresh ${ratios.loopOverRefreshTime.toFixed(1)}x, skopeo x8 / refresh ${ratios.x8OverRefreshTime.toFixed(1)}x, skopeo x8 / watch polls ${ratios.x8OverWatchTime.toFixed(1)}x; upstream requests skopeo / refresh ${ratios.loopOverRefreshRequests.toFixed(1)}x`);
  const oneHead = refresh.upstreamRequests === N && refresh.upstream['HEAD manifests/<tag>'] === N && refresh.mirrorRequests === 0;
  console.log(`target: an unchanged refresh costs one manifest HEAD per tag and nothing else: ${oneHead ? 'met' : 'NOT met'}`);
  if (!oneHead) process.exitCode = 1;
  mkdirSync(new URL('../out/', import.meta.url), { recursive: true });
  writeFileSync(join(new URL('../out/', import.meta.url).pathname, 'resync.json'), JSON.stringify(out, null, 2));
} finally {
  for (const c of cleanups.reverse()) await c();
}

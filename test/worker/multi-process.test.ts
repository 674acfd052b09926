/**
 * Several `ferry worker` processes on one queue (real child processes, as
 * operators run them): the work is shared, no image is copied twice, and a
 * worker killed mid-run loses nothing: BullMQ's stalled-job recovery hands its
 * jobs to the others. What reached the mirror is counted by a proxy in front
 * of it; who did what, by each process's /metrics and logs.
 */
import t, { type Test } from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueEvents, type Queue } from 'bullmq';
import { connectRedis, createQueue, ImageStore, Producer, QUEUE_NAME, type CopyJobData } from '../../src/queue/index.js';
import { toMirrorReference } from '../../src/reference/index.js';
import { cleanEnv, startFerry, type RunningFerry } from '../cli/support/ferry-process.js';
import { startCountingProxy, type CountingProxy } from '../support/counting-proxy.js';
import { buildImage, pushImage } from '../support/images.js';
import { startRedis } from '../support/redis.js';
import { startRedisCluster } from '../support/redis-cluster.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { EventLog } from './support/events.js';

const IMAGES = 30;
const WORKERS = 3;

const redis = await startRedis();
t.teardown(() => redis.stop());
const upstream = await startRegistry();
t.teardown(() => upstream.stop());

/** 30 distinct small images (one 2 KiB layer + config each) on the upstream. */
const layout = mkdtempSync(join(tmpdir(), 'ferry-multi-img-'));
const refs: string[] = [];
for (let i = 0; i < IMAGES; i++) {
  buildImage(layout, { tag: `t${i}`, layerSizes: [2048] });
  refs.push(`${upstream.host}/fleet/app-${i}:v1`);
}
for (let i = 0; i < IMAGES; i += 6) {
  await Promise.all(refs.slice(i, i + 6).map((ref, j) => pushImage(layout, `t${i + j}`, ref)));
}

interface Fleet {
  mirror: TestRegistry;
  proxy: CountingProxy;
  workers: RunningFerry[];
  events: EventLog;
  queue: Queue<CopyJobData>;
  mirrorRepoOf(ref: string): string;
  enqueueAll(): Promise<void>;
}

/** A fresh mirror behind a counting proxy, `WORKERS` `ferry worker` processes on `redisUrl`/`prefix`, and a producer. */
async function startFleet(t: Test, redisUrl: string, prefix: string, proxyDelayMs = 0, lockMs?: number): Promise<Fleet> {
  const mirror = await startRegistry();
  t.teardown(() => mirror.stop());
  const proxy = await startCountingProxy(mirror.host, { delayMs: proxyDelayMs });
  t.teardown(() => proxy.close());
  const env = cleanEnv({
    FERRY_QUEUE_REDIS_URL: redisUrl,
    FERRY_QUEUE_PREFIX: prefix,
    FERRY_QUEUE_CONCURRENCY: '2',
    FERRY_MIRROR_REGISTRY: proxy.host,
    FERRY_DASHBOARD_PORT: '0',
    FERRY_LOG_LEVEL: 'info',
    ...(lockMs ? { FERRY_QUEUE_LOCK_MS: String(lockMs) } : {}),
  });
  const workers = Array.from({ length: WORKERS }, () => startFerry(['worker'], env));
  t.teardown(() => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  });
  await Promise.all(workers.map((w) => w.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('ferry is up'), '"ferry is up"')));
  const events = await EventLog.start(redisUrl, `${prefix}:events`);
  t.teardown(() => events.close());
  const conn = connectRedis(redisUrl);
  const store = new ImageStore(conn, prefix);
  const queue = createQueue(conn, prefix);
  const producer = new Producer({ store, queue, maxAttempts: () => 3, bufferLimit: 1000 });
  t.teardown(async () => {
    await producer.close();
    await queue.close();
    conn.disconnect();
  });
  const mirrorRefOf = (ref: string) => toMirrorReference(ref, { registry: proxy.host, prefix: '' });
  return {
    mirror,
    proxy,
    workers,
    events,
    queue,
    mirrorRepoOf: (ref) => mirrorRefOf(ref).slice(proxy.host.length + 1).replace(/:[^:/]+$/, ''),
    async enqueueAll() {
      await Promise.all(refs.map((ref) => producer.enqueueNow({ ref, mirrorRef: mirrorRefOf(ref), source: 'api' })));
    },
  };
}

/** `image mirrored` log lines of one worker process: ref, job id, whether it found the image already there. */
const mirroredBy = (w: RunningFerry) => w.logs.filter((l) => l.msg === 'image mirrored').map((l) => ({ ref: l.ref as string, jobId: String(l.jobId), upToDate: l.upToDate as boolean }));

/**
 * Resolves once some process has logged `image mirrored` for each of `refs`.
 * The record turns `mirrored` before the line is written, so the events
 * alone do not say the logs are complete.
 */
async function allLogged(workers: RunningFerry[], refs: string[]): Promise<void> {
  await Promise.all(refs.map((ref) => Promise.any(workers.map((w) => w.waitForLog((l) => l.msg === 'image mirrored' && l.ref === ref, `image mirrored ${ref}`)))));
}

/** `ferry_worker_jobs_total{outcome="mirrored"}` from a worker's /metrics. */
async function mirroredCount(w: RunningFerry): Promise<number> {
  const up = await w.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('ferry is up'), '"ferry is up"');
  const text = await (await fetch(`${up.ops}/metrics`)).text();
  const m = /^ferry_worker_jobs_total\{outcome="mirrored"\} (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

function assertEachCopiedOnce(t: Test, f: Fleet): void {
  const puts = f.proxy.manifestPuts();
  const uploads = f.proxy.blobUploads();
  const repos = refs.map((r) => f.mirrorRepoOf(r));
  t.same(
    repos.filter((r) => puts.get(r) !== 1),
    [],
    `each of the ${IMAGES} images: exactly one manifest PUT reached the mirror`,
  );
  t.same(
    repos.filter((r) => uploads.get(r) !== 2),
    [],
    'each image: exactly its two blobs (layer, config) uploaded, once',
  );
  t.equal([...puts.values()].reduce((a, b) => a + b, 0), IMAGES, 'no manifest PUT anywhere else');
  const odd = new Set(repos.filter((r) => puts.get(r) !== 1 || uploads.get(r) !== 2));
  if (odd.size) {
    const lines = f.proxy.seen.filter((r) => [...odd].some((repo) => r.path.startsWith(`/v2/${repo}/`))).map((r) => `${r.at} ${r.method} ${r.path}?${r.query} ${r.status}`);
    t.comment(`requests for ${[...odd].join(', ')}:\n${lines.join('\n')}`);
  }
}

for (const where of ['one redis-server', 'a 3-master Redis Cluster'] as const) {
  t.test(`${WORKERS} ferry worker processes on one queue (${where}): every image copied exactly once, by all of them`, async (t) => {
    let url = redis.url;
    let prefix = 'shared';
    if (where !== 'one redis-server') {
      const cluster = await startRedisCluster();
      t.teardown(() => cluster.stop());
      url = cluster.url;
      prefix = '{shared}';
    }
    const f = await startFleet(t, url, prefix, 10);
    await f.enqueueAll();
    for (const ref of refs) await f.events.state(ref, 'mirrored', 60_000);
    await allLogged(f.workers, refs);

    assertEachCopiedOnce(t, f);
    const byWorker = f.workers.map(mirroredBy);
    const all = byWorker.flat();
    t.equal(all.length, IMAGES, 'one "image mirrored" per image over all processes');
    t.same([...new Set(all.map((m) => m.ref))].sort(), [...refs].sort(), 'no image done by two processes');
    t.notOk(all.some((m) => m.upToDate), 'none found its image already there (nobody raced ahead)');
    const counts = await Promise.all(f.workers.map(mirroredCount));
    t.same(counts, byWorker.map((m) => m.length), '/metrics of each process counts what it logged');
    t.ok(counts.every((n) => n > 0), `every process did some of the work: ${counts.join(' + ')} = ${IMAGES}`);
    t.equal(counts.reduce((a, b) => a + b, 0), IMAGES);
    const up = await f.workers[0]!.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('ferry is up'), '"ferry is up"');
    const text = await (await fetch(`${up.ops}/metrics`)).text();
    t.match(text, /^ferry_registry_concurrency_limit\{host="[^"]+"\} \d+/m, 'the upstream gate is on /metrics');
    for (const w of f.workers) t.equal(await w.stop(), 0, 'clean exit on SIGTERM');
  });
}

t.test('a ferry worker killed with SIGKILL mid-run: the others finish its jobs, still one copy each', async (t) => {
  // Every mirror request held 150 ms: a copy takes over a second, so the victim holds jobs when it dies.
  // queue.lockMs 10 s (default 30 s): the dead worker's jobs are taken over within ~20 s, not ~60
  const f = await startFleet(t, redis.url, 'killed', 150, 10_000);
  const [victim, ...survivors] = f.workers as [RunningFerry, ...RunningFerry[]];
  const eventsConn = connectRedis(redis.url);
  const queueEvents = new QueueEvents(QUEUE_NAME, { connection: eventsConn, prefix: 'killed' });
  t.teardown(async () => {
    await queueEvents.close();
    eventsConn.disconnect();
  });
  const completed = new Set<string>();
  const allCompleted = new Promise<void>((resolve) =>
    queueEvents.on('completed', ({ jobId }) => {
      completed.add(jobId);
      if (completed.size === IMAGES) resolve();
    }),
  );
  await queueEvents.waitUntilReady();
  await f.enqueueAll();
  await victim.waitForLog((l) => l.msg === 'image mirrored', 'the first copy of the victim');
  const gone = new Promise((r) => victim.child.once('close', r));
  victim.child.kill('SIGKILL');
  await gone;

  // BullMQ re-delivers a dead worker's job once its lock (queue.lockMs) lapses and a stalled check runs (every lockMs/2).
  await allCompleted;
  for (const ref of refs) await f.events.state(ref, 'mirrored');
  // The proof of "no double copy": what reached the mirror (the victim's last log lines may be lost with it).
  assertEachCopiedOnce(t, f);

  const recovered = (await f.queue.getJobs(['completed'])).filter((j) => j.stalledCounter > 0);
  t.ok(recovered.length > 0, `the victim held jobs when it died: ${recovered.map((j) => j.id).join(', ')} recovered`);
  for (const job of recovered) {
    const byJob = (msg: string) => (l: Record<string, any>) => typeof l.msg === 'string' && l.msg.startsWith(msg) && String(l.jobId) === job.id;
    await Promise.any(survivors.map((w) => w.waitForLog(byJob('copy job stalled'), `stalled ${job.id}`)));
    const finished = await Promise.any(survivors.map((w) => w.waitForLog(byJob('image mirrored'), `image mirrored ${job.id}`)));
    t.equal(finished.ref, job.data.ref, `job ${job.id} (${job.data.ref}): found stalled and finished by a survivor`);
  }
  for (const w of survivors) t.equal(await w.stop(), 0, 'survivor exits cleanly');
});

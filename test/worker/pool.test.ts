import t from 'tap';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { register } from 'prom-client';
import type { Role, RoleContext } from '../../src/runtime/index.js';
import type { FerryConfig } from '../../src/config/index.js';
import type { ReadinessCheck } from '../../src/observability/index.js';
import { connectRedis, type CopyJobData } from '../../src/queue/index.js';
import { RegistryEngine } from '../../src/registry/index.js';
import { startWorker, type WorkerPool } from '../../src/worker/index.js';
import { inspectRaw } from '../support/images.js';
import { freePort } from '../support/process.js';
import { startEnv, harness, jobDone, silent } from './support/env.js';

process.on('unhandledRejection', (e) => console.error('UNHANDLED', e));
const env = await startEnv();
t.teardown(() => env.stop());

t.test('enqueue -> queued -> copying -> mirrored; the mirror holds the same digest', async (t) => {
  const h = await harness(env, 'happy');
  t.teardown(() => h.close());
  const { ref, image } = await env.push('test/app', '1', [256 * 1024, 512 * 1024, 1024]);
  const done = jobDone(h.pool());
  await h.enqueue(ref);
  const rec = await h.events.state(ref, 'mirrored');
  await done;
  t.same(
    h.events.states(ref).map((r) => r.state),
    ['queued', 'copying', 'mirrored'],
  );
  t.match(h.events.states(ref)[1], { state: 'copying', attempts: 1, maxAttempts: 4, nextAttemptAt: null });
  t.match(rec, { state: 'mirrored', digest: image.digest, attempts: 1, lastError: null, nextAttemptAt: null });
  t.ok(rec.bytesTotal > 768 * 1024, 'bytesTotal reported');
  t.equal(rec.bytesDone, rec.bytesTotal);
  t.ok(rec.mirroredAt);
  const got = await inspectRaw(env.mirrorRefOf(ref));
  t.equal(got?.digest, image.digest, 'mirror manifest digest equals upstream');
  t.same(await h.store.counts(), { queued: 0, copying: 0, mirrored: 1, retrying: 0, error: 0, blocked: 0 });
  const completed = await h.queue.getJobs(['completed']);
  t.equal(completed.length, 1);
  t.match(completed[0]!.returnvalue, { digest: image.digest, upToDate: false });
  t.match(await register.getSingleMetricAsString('ferry_worker_jobs_total'), /ferry_worker_jobs_total\{outcome="mirrored"\} [1-9]/);
  t.match(await register.getSingleMetricAsString('ferry_worker_copy_bytes_total'), /ferry_worker_copy_bytes_total [1-9]\d{5,}/);
  t.match(await register.getSingleMetricAsString('ferry_worker_copy_duration_seconds'), /ferry_worker_copy_duration_seconds_count\{outcome="mirrored"\} [1-9]/);
  t.match(await register.getSingleMetricAsString('ferry_worker_active_copies'), /ferry_worker_active_copies 0/);
  await h.pools[0]!.refreshCounts();
  t.match(await register.getSingleMetricAsString('ferry_worker_images'), /ferry_worker_images\{state="mirrored"\} 1/);
});

t.test('re-copy of an unchanged image copies nothing and stays mirrored', async (t) => {
  const h = await harness(env, 'uptodate');
  t.teardown(() => h.close());
  const { ref, image } = await env.push('test/same', '1', [64 * 1024, 64 * 1024]);
  const pool = h.pool();
  let done = jobDone(pool);
  await h.enqueue(ref);
  const first = await h.events.state(ref, 'mirrored');
  await done;

  // forced re-enqueue (what the watcher / retry API do): queued -> copying -> mirrored, upToDate,
  // no blob read (its time is a figure in bench/copy, not a pass/fail check here)
  h.events.seen.length = 0;
  done = jobDone(pool);
  await h.enqueue(ref, { force: true });
  const again = await h.events.state(ref, 'mirrored');
  t.equal(again.digest, first.digest);
  t.same(h.events.states(ref).map((r) => r.state), ['queued', 'copying', 'mirrored']);
  t.match((await done).returnvalue, { upToDate: true, digest: image.digest, bytesCopied: 0, blobsCopied: 0 });

  // a stray job for an image already mirrored: the record never leaves `mirrored`
  h.events.seen.length = 0;
  done = jobDone(pool);
  await h.queue.add('copy', { ref, mirrorRef: env.mirrorRefOf(ref) }, { attempts: 4, backoff: { type: 'ferry' } });
  const stray = await done;
  t.same(h.events.states(ref).map((r) => r.state), ['mirrored']);
  t.match(stray.returnvalue, { upToDate: true });
  t.equal((await inspectRaw(env.mirrorRefOf(ref)))?.digest, image.digest);
});

t.test('upstream down: retrying with growing delays, then error after maxAttempts', async (t) => {
  const h = await harness(env, 'down', { maxAttempts: 4, initialMs: 50 });
  t.teardown(() => h.close());
  const port = await freePort(); // nothing listens there
  const ref = `127.0.0.1:${port}/test/gone:1`;
  const done = jobDone(h.pool({ rand: () => 1 })); // rand 1: delays exactly 50, 100, 200
  await h.enqueue(ref);
  const err = await h.events.state(ref, 'error');
  await done;
  const states = h.events.states(ref);
  t.same(states.map((r) => r.state), ['queued', 'copying', 'retrying', 'copying', 'retrying', 'copying', 'retrying', 'copying', 'error']);
  const retrying = states.filter((r) => r.state === 'retrying');
  const deltas = retrying.map((r) => Date.parse(r.nextAttemptAt!) - Date.parse(r.updatedAt));
  t.same(retrying.map((r) => r.attempts), [1, 2, 3]);
  [50, 100, 200].forEach((d, i) => t.ok(deltas[i]! <= d && deltas[i]! > d - 30, `delay ${i + 1}: ${deltas[i]} ~ ${d}`));
  t.ok(deltas[0]! < deltas[1]! && deltas[1]! < deltas[2]!, `growing: ${deltas.join(', ')}`);
  // BullMQ really waited that long before the next attempt
  const copying = states.filter((r) => r.state === 'copying');
  retrying.forEach((r, i) => {
    const next = Date.parse(copying[i + 1]!.updatedAt);
    t.ok(next >= Date.parse(r.nextAttemptAt!) - 5, `attempt ${i + 2} started at/after nextAttemptAt`);
  });
  t.match(err, { state: 'error', attempts: 4, maxAttempts: 4, nextAttemptAt: null, lastError: /UNREACHABLE|ECONNREFUSED|reachable/i });
  const failed = await h.queue.getJobs(['failed']);
  t.equal(failed.length, 1);
  t.equal(failed[0]!.attemptsMade, 4);
  // no automatic retry from `error`: admission does not re-queue it
  const again = await h.producer.enqueueNow({ ref, mirrorRef: env.mirrorRefOf(ref), source: 'admission' });
  t.same(again, { state: 'error', created: false });
});

t.test('permanent error (manifest unknown) -> error at once, attempts 1', async (t) => {
  const h = await harness(env, 'perm', { maxAttempts: 5 });
  t.teardown(() => h.close());
  await env.push('test/exists', '1', [1024]);
  const ref = `${env.upstream.host}/test/exists:nope`;
  const done = jobDone(h.pool());
  await h.enqueue(ref);
  const rec = await h.events.state(ref, 'error');
  await done;
  t.same(h.events.states(ref).map((r) => r.state), ['queued', 'copying', 'error']);
  t.match(rec, { attempts: 1, maxAttempts: 5, nextAttemptAt: null, lastError: /manifest|unknown/i });
  const failed = await h.queue.getJobs(['failed']);
  t.equal(failed[0]?.attemptsMade, 1, 'BullMQ did not retry it');
});

t.test('blocked or removed images are skipped without copying', async (t) => {
  const h = await harness(env, 'skip');
  t.teardown(() => h.close());
  const { ref } = await env.push('test/blocked', '1', [1024]);
  await h.store.update(ref, { state: 'blocked', mirrorRef: env.mirrorRefOf(ref), blockedReason: 'CVE' }, { upsert: true });
  const gone = `${env.upstream.host}/test/removed:1`;
  const pool = h.pool();
  const done = new Map<string, unknown>();
  const finished = new Promise<void>((resolve) =>
    pool.worker.on('completed', (job, result) => {
      done.set(job.id!, result);
      if (done.size === 2) resolve();
    }),
  );
  const j1 = await h.queue.add('copy', { ref, mirrorRef: env.mirrorRefOf(ref) }, { attempts: 3 });
  const j2 = await h.queue.add('copy', { ref: gone, mirrorRef: env.mirrorRefOf(gone) }, { attempts: 3 });
  await finished;
  t.same(done.get(j1.id!), { skipped: 'blocked' });
  t.same(done.get(j2.id!), { skipped: 'removed' });
  t.match((await h.queue.getJob(j1.id!))?.returnvalue, { skipped: 'blocked' });
  t.match((await h.queue.getJob(j2.id!))?.returnvalue, { skipped: 'removed' });
  t.match(await h.store.get(ref), { state: 'blocked' });
  t.equal(await h.store.get(gone), undefined);
  t.equal(await inspectRaw(env.mirrorRefOf(ref)), undefined, 'nothing copied');
});

t.test('config block rules stop a queued copy: by pattern before any request, by digest once resolved', async (t) => {
  const h = await harness(env, 'blockrules');
  t.teardown(() => h.close());
  const evil = await env.push('test/evil', '1', [1024]);
  const bad = await env.push('test/badbuild', '1', [1024]);
  const fine = await env.push('test/fine', '1', [1024]);
  // what a watch or an API call enqueued before the rules were written
  h.config = {
    ...h.config,
    block: [
      { pattern: '**/test/evil*', reason: 'CVE-2099-1' },
      { digest: bad.image.digest, reason: 'known bad build' },
    ],
  };
  const pool = h.pool();
  for (const x of [evil, bad, fine]) {
    const done = jobDone(pool, (j) => j.data.ref === x.ref);
    await h.enqueue(x.ref);
    await done;
  }
  t.match(await h.store.get(evil.ref), { state: 'blocked', blockedReason: 'blocked by config: CVE-2099-1', digest: null });
  t.match(await h.store.get(bad.ref), { state: 'blocked', blockedReason: 'blocked by config: known bad build', digest: bad.image.digest });
  t.match(await h.store.get(fine.ref), { state: 'mirrored', digest: fine.image.digest });
  t.equal(await inspectRaw(env.mirrorRefOf(evil.ref)), undefined, 'pattern-blocked image not copied');
  t.equal(await inspectRaw(env.mirrorRefOf(bad.ref)), undefined, 'digest-blocked image not copied');
  const jobs = await h.queue.getJobs(['completed', 'failed']);
  t.same(jobs.filter((j) => j.data.ref !== fine.ref).map((j) => j.returnvalue), [{ skipped: 'blocked' }, { skipped: 'blocked' }], 'completed as skipped, never failed');
});

t.test('config change re-enqueues images in error that it may fix', async (t) => {
  const h = await harness(env, 'reconf', { maxAttempts: 3 });
  t.teardown(() => h.close());
  const { ref, image } = await env.push('test/later', '1', [1024]);
  const perm = `${env.upstream.host}/test/later:missing`;
  // an image that ran out of attempts, and one that failed permanently
  await h.store.update(ref, { state: 'error', mirrorRef: env.mirrorRefOf(ref), attempts: 3, maxAttempts: 3, lastError: 'was down', source: 'api' }, { upsert: true });
  await h.store.update(perm, { state: 'error', mirrorRef: env.mirrorRefOf(perm), attempts: 1, maxAttempts: 3, lastError: 'manifest unknown', source: 'api' }, { upsert: true });
  const pool = h.pool();
  const same = await pool.updateConfig({ ...h.config, queue: { ...h.config.queue, concurrency: 2 } });
  t.same(same.requeued, [], 'irrelevant change: nothing');
  t.equal(pool.worker.concurrency, 2, 'concurrency hot-reloaded');
  const next = { ...h.config, queue: { ...h.config.queue, concurrency: 2, maxAttempts: 6 } };
  h.config = next;
  const res = await pool.updateConfig(next);
  t.same(res.requeued, [ref]);
  const rec = await h.events.state(ref, 'mirrored');
  t.match(rec, { digest: image.digest, maxAttempts: 6, attempts: 1 });
  t.match(await h.store.get(perm), { state: 'error', attempts: 1 });
  // a second worker seeing the same reload does not re-enqueue again
  const other = h.pool();
  t.same((await other.updateConfig(next)).requeued, []);
});


t.test('a job whose worker keeps dying ends in error once BullMQ gives up (stall limit)', async (t) => {
  const h = await harness(env, 'stall');
  t.teardown(() => h.close());
  const { ref } = await env.push('test/stall', '1', [1024]);
  await h.enqueue(ref);
  // A "worker" that takes the job and dies: it never renews its short lock.
  const conn = connectRedis(env.redis.url);
  const dead = new Worker<CopyJobData>('mirror', null, { connection: conn, prefix: h.config.queue.prefix, autorun: false, lockDuration: 300 });
  t.teardown(async () => {
    await dead.close(true);
    conn.disconnect();
  });
  const job = await dead.getNextJob('dead-token');
  t.equal(job?.data.ref, ref);
  await h.store.update(ref, { state: 'copying', attempts: 1 });
  const pool = h.pool({ workerOpts: { lockDuration: 2000, stalledInterval: 200, maxStalledCount: 0 } });
  const done = jobDone(pool);
  const rec = await h.events.state(ref, 'error');
  t.match(rec, { state: 'error', nextAttemptAt: null, lastError: /stopped .*more than 0 time.*stalled more than allowable limit/ });
  const failed = await done;
  t.equal(failed.failedReason, 'job stalled more than allowable limit');
});

t.test('startWorker is a StartRole: copies, follows config reloads, reports readiness, closes', async (t) => {
  const h = await harness(env, 'role');
  t.teardown(() => h.close());
  let cfg = h.config;
  const listeners: ((next: FerryConfig, prev: FerryConfig) => void)[] = [];
  const checks = new Map<string, ReadinessCheck>();
  const conns: Redis[] = [];
  t.teardown(() => conns.forEach((c) => c.disconnect()));
  const engine = new RegistryEngine({ config: cfg });
  t.teardown(() => engine.close());
  const ctx = {
    config: () => cfg,
    onConfigChange: (l: (next: FerryConfig, prev: FerryConfig) => void) => void listeners.push(l),
    logger: silent,
    redis: () => {
      const c = connectRedis(env.redis.url);
      conns.push(c);
      return c;
    },
    connection: h.conn,
    store: h.store,
    producer: h.producer,
    mirrorRefOf: (ref: string) => env.mirrorRefOf(ref),
    registry: () => engine,
    addReadiness: (name: string, check: ReadinessCheck) => void checks.set(name, check),
  } as unknown as RoleContext;
  const role = (await startWorker(ctx)) as Role & { pool: WorkerPool };
  t.equal(role.name, 'worker');
  const { ref, image } = await env.push('test/role', '1', [2048]);
  await h.enqueue(ref);
  t.match(await h.events.state(ref, 'mirrored'), { digest: image.digest });
  t.same(await checks.get('worker')!(), { ok: true });
  const next = { ...cfg, queue: { ...cfg.queue, concurrency: 7 } };
  for (const l of listeners) l(next, cfg);
  cfg = next;
  t.equal(role.pool.worker.concurrency, 7, 'concurrency follows the reloaded config');
  await role.close();
  t.match(await checks.get('worker')!(), { ok: false });
});

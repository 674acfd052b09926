import t from 'tap';
import { register } from 'prom-client';
import { inspectRaw } from '../support/images.js';
import { freePort } from '../support/process.js';
import { startEnv, harness, jobDone } from './support/env.js';

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
  const metrics = await register.getSingleMetricAsString('ferry_worker_jobs_total');
  t.match(metrics, /outcome="mirrored"\} [1-9]/);
});

t.test('re-copy of an unchanged image is a fast no-op and stays mirrored', async (t) => {
  const h = await harness(env, 'uptodate');
  t.teardown(() => h.close());
  const { ref, image } = await env.push('test/same', '1', [64 * 1024, 64 * 1024]);
  const pool = h.pool();
  let done = jobDone(pool);
  await h.enqueue(ref);
  const first = await h.events.state(ref, 'mirrored');
  await done;

  // forced re-enqueue (what the watcher / retry API do): queued -> copying -> mirrored, upToDate
  h.events.seen.length = 0;
  done = jobDone(pool);
  await h.enqueue(ref, { force: true });
  const again = await h.events.state(ref, 'mirrored');
  t.equal(again.digest, first.digest);
  const last = await done;
  t.match(last.returnvalue, { upToDate: true, digest: image.digest, bytesCopied: 0 });
  const ms = last.finishedOn! - last.processedOn!;
  t.ok(ms < 100, `up-to-date job finished in ${ms} ms`);
  console.error("UPTODATE", ms, last.returnvalue);

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


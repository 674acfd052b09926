import t from 'tap';
import { Redis } from 'ioredis';
import { startRedis } from '../support/redis.js';
import { connectRedis, createQueue, ImageStore, Producer, RecordFeed, StateView, decodeEvent, type ImageEvent } from '../../src/queue/index.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

async function setup(prefix: string) {
  const conn = connectRedis(redis.url);
  conn.on('error', () => {});
  const store = new ImageStore(conn, prefix);
  const queue = createQueue(conn, prefix);
  const producer = new Producer({ store, queue, maxAttempts: () => 5, bufferLimit: 100_000 });
  return {
    conn,
    store,
    queue,
    producer,
    async close() {
      await producer.close();
      await queue.close();
      conn.disconnect();
    },
  };
}

t.test('10k admissions over 100 distinct images make exactly 100 jobs and 100 queued records', async (t) => {
  const s = await setup('t1');
  t.teardown(() => s.close());
  for (let i = 0; i < 10_000; i++) {
    const ref = `docker.io/library/img${i % 100}:1.0`;
    s.producer.enqueue({ ref, mirrorRef: `m:5000/${ref}`, source: 'admission' });
  }
  await s.producer.flush();
  const counts = await s.queue.getJobCounts('waiting', 'delayed', 'active');
  t.equal(counts.waiting, 100);
  t.same((await s.store.counts()).queued, 100);
  // A second wave of the same images adds nothing.
  for (let i = 0; i < 1000; i++) s.producer.enqueue({ ref: `docker.io/library/img${i % 100}:1.0`, mirrorRef: 'x', source: 'admission' });
  await s.producer.flush();
  t.equal((await s.queue.getJobCounts('waiting')).waiting, 100);
  const rec = await s.store.get('docker.io/library/img7:1.0');
  t.match(rec, { state: 'queued', attempts: 0, maxAttempts: 5, mirrorRef: 'm:5000/docker.io/library/img7:1.0', source: 'admission', digest: null });
});

t.test('an image in error or mirrored is not re-queued by admission; force re-queues', async (t) => {
  const s = await setup('t2');
  t.teardown(() => s.close());
  const ref = 'docker.io/library/a:1';
  await s.producer.enqueueNow({ ref, mirrorRef: 'm/' + ref, source: 'admission' });
  const jobs = await s.queue.getJobs(['waiting']);
  t.equal(jobs.length, 1);
  await jobs[0]!.remove();
  await s.queue.removeDeduplicationKey((await import('../../src/queue/keys.js')).dedupeId(ref));
  await s.store.update(ref, { state: 'error', lastError: 'boom' });
  const again = await s.producer.enqueueNow({ ref, mirrorRef: 'm/' + ref, source: 'admission' });
  t.same(again, { state: 'error', created: false });
  t.equal((await s.queue.getJobs(['waiting'])).length, 0);
  const forced = await s.producer.enqueueNow({ ref, mirrorRef: 'm/' + ref, source: 'api', force: true });
  t.same(forced, { state: 'queued', created: true });
  t.equal((await s.queue.getJobs(['waiting'])).length, 1);
  t.match(await s.store.get(ref), { state: 'queued', lastError: null, attempts: 0 });
  t.same((await s.store.counts()).error, 0);
});

t.test('state changes are published and the state view follows them', async (t) => {
  const s = await setup('t3');
  const sub = connectRedis(redis.url);
  const feed = new RecordFeed(s.store, sub);
  const view = new StateView(feed);
  t.teardown(async () => {
    await feed.close();
    sub.disconnect();
    await s.close();
  });
  await s.store.update('docker.io/library/pre:1', { state: 'mirrored', mirrorRef: 'm', mirroredAt: new Date().toISOString() }, { upsert: true });
  await feed.start();
  t.ok(view.isAvailable('docker.io/library/pre:1'), 'loaded at start');
  const listener = connectRedis(redis.url);
  t.teardown(() => listener.disconnect());
  await listener.subscribe(s.store.k.events);
  const seen: ImageEvent[] = [];
  const got = new Promise<void>((resolve) =>
    listener.on('message', (_c: string, m: string) => {
      const ev = decodeEvent(m);
      if (ev) seen.push(ev);
      if (ev?.type === 'removed') resolve();
    }),
  );
  const ref = 'docker.io/library/b:2';
  await s.producer.enqueueNow({ ref, mirrorRef: 'm/' + ref, source: 'api' });
  await s.store.update(ref, { state: 'copying', attempts: 1 });
  await s.store.progress(ref, 10, 100);
  await s.store.update(ref, { state: 'mirrored', digest: 'sha256:' + 'a'.repeat(64), mirroredAt: new Date().toISOString() });
  await s.store.remove('docker.io/library/pre:1');
  await got;
  t.same(seen.map((e) => e.type), ['state', 'state', 'progress', 'state', 'removed']);
  t.same(seen.map((e) => (e.type === 'state' ? e.record.state : e.type)), ['queued', 'copying', 'progress', 'mirrored', 'removed']);
  // The view is fed by the same channel; by now it has seen those messages too.
  await new Promise((r) => setImmediate(r));
  t.ok(view.isAvailable(ref));
  t.notOk(view.get('docker.io/library/pre:1'));
  t.same(await s.store.counts(), { queued: 0, copying: 0, mirrored: 1, retrying: 0, error: 0, blocked: 0 });
});

t.test('enqueue keeps buffering while Redis is down and delivers when it is back', async (t) => {
  const own = await startRedis();
  t.teardown(() => own.stop());
  const conn = connectRedis(own.url, { retryStrategy: () => 50 });
  conn.on('error', () => {}); // the outage below is on purpose
  const store = new ImageStore(conn, 'down');
  const queue = createQueue(conn, 'down');
  const producer = new Producer({ store, queue, maxAttempts: () => 3, bufferLimit: 1000 });
  t.teardown(async () => {
    await producer.close();
    await queue.close();
    conn.disconnect();
  });
  await queue.waitUntilReady();
  await own.kill();
  const started = process.hrtime.bigint();
  for (let i = 0; i < 50; i++) producer.enqueue({ ref: `docker.io/library/down${i}:1`, mirrorRef: 'm', source: 'admission' });
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  t.ok(elapsedMs < 1000, 'enqueue returns without waiting on Redis');
  t.equal(producer.depth, 50);
  await own.start();
  await producer.flush();
  t.equal(producer.depth, 0);
  t.equal((await queue.getJobCounts('waiting')).waiting, 50);
});

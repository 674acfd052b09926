/**
 * Delivery through the queue against a loopback receiver and a real
 * redis-server: a receiver outage (503, then a refused connection) loses
 * nothing and delivers once; a 4xx is permanent; the same event emitted
 * twice is delivered once; a signed delivery verifies.
 */
import type { Worker } from 'bullmq';
import t, { type Test } from 'tap';
import { pino } from 'pino';
import { DEFAULTS, type FerryConfig, type NotifyTarget } from '../../src/config/index.js';
import { Notifier, startNotifyConsumer, verifySignature, NOTIFY_ERROR_CODES, type NotifyInput } from '../../src/notify/index.js';
import { connectRedis } from '../../src/queue/index.js';
import { RegistryEngine } from '../../src/registry/index.js';
import { startRedis } from '../support/redis.js';
import { Receiver } from './support/receiver.js';

const logger = pino({ level: process.env.FERRY_TEST_LOG ?? 'silent' });
const redis = await startRedis();
t.teardown(() => redis.stop());

function config(prefix: string, notify: NotifyTarget[]): FerryConfig {
  const c: FerryConfig = structuredClone(DEFAULTS);
  c.mirror = { registry: '127.0.0.1:1', insecure: true, prefix: '' };
  c.queue = { ...c.queue, prefix, backoff: { initialMs: 20, maxMs: 80 } };
  c.notify = notify;
  return c;
}

/** Notifier + consumer on their own connections; `failed` resolves on BullMQ's failed events. */
async function setup(t: Test, prefix: string, notify: NotifyTarget[]) {
  let cfg = config(prefix, notify);
  const conns = [connectRedis(redis.url), connectRedis(redis.url)];
  const engine = new RegistryEngine({ config: cfg, retries: 0 });
  const notifier = new Notifier({ connection: conns[0]!, config: () => cfg });
  const consumer = startNotifyConsumer({ connection: conns[1]!, config: () => cfg, engine, logger, timeoutMs: 2000 });
  t.teardown(async () => {
    await consumer.close();
    await notifier.close();
    await engine.close();
    for (const c of conns) c.disconnect();
  });
  return { notifier, consumer, setConfig: (c: FerryConfig) => (cfg = c) };
}

const settled = (w: Worker, name: 'completed' | 'failed', pred: (err?: Error, job?: any) => boolean = () => true): Promise<{ err?: Error; job?: any }> =>
  new Promise((resolve) => {
    const on = (job: any, err?: Error) => {
      if (name === 'failed' ? !pred(err, job) : !pred(undefined, job)) return;
      w.off(name, on);
      resolve({ job, ...(err ? { err } : {}) });
    };
    w.on(name, on);
  });

const errorEvent = (n: string): NotifyInput => ({ event: 'error', ref: `up.example/demo/${n}:1`, mirrorRef: `127.0.0.1:1/up.example/demo/${n}:1`, error: { code: null, message: 'boom' }, occurrence: `job ${n}` });

t.test('503, then a refused connection, then 200: one delivery, nothing lost', async (t) => {
  const rx = new Receiver();
  await rx.listen();
  t.teardown(() => rx.stop());
  rx.answers = [503];
  const { notifier, consumer } = await setup(t, 'n-outage', [{ url: rx.url }]);
  const unreachable = settled(consumer.worker, 'failed', (err) => /unreachable/.test(err?.message ?? ''));
  // after the 503 the receiver goes away: the next attempt finds nobody listening
  rx.once('request', () => void rx.stop());
  const done = settled(consumer.worker, 'completed');
  t.equal(await notifier.emit(errorEvent('outage')), 1);
  const { err } = await unreachable;
  t.match(err, { code: NOTIFY_ERROR_CODES.UNREACHABLE });
  await rx.listen(rx.port);
  const { job } = await done;
  t.match(job.returnvalue, { outcome: 'delivered', status: 200 });
  t.ok(job.attemptsMade >= 2, `delivered on attempt ${job.attemptsMade + 1}`);
  t.same(rx.requests.map((r) => r.status), [503, 200], 'the 503, then exactly one delivery');
  t.equal(rx.delivered[0]!.headers['content-type'], 'application/cloudevents+json');
  t.match(rx.delivered[0]!.json, { specversion: '1.0', type: 'io.ferry.error', subject: 'up.example/demo/outage:1', data: { error: { message: 'boom' } } });
  t.equal(rx.requests[0]!.body, rx.requests[1]!.body, 'a retry sends the same body');
  t.notOk(rx.delivered[0]!.headers['x-ferry-signature-256'], 'no secret, no signature');
});

t.test('a 4xx is permanent: one request, no retry', async (t) => {
  const rx = new Receiver();
  await rx.listen();
  t.teardown(() => rx.stop());
  rx.answers = [404];
  const { notifier, consumer } = await setup(t, 'n-reject', [{ url: rx.url }]);
  const failed = settled(consumer.worker, 'failed');
  await notifier.emit(errorEvent('reject'));
  const { err, job } = await failed;
  t.match(err?.message, new RegExp(NOTIFY_ERROR_CODES.REJECTED));
  t.equal(job.attemptsMade, 1, 'not retried');
  t.same(rx.requests.map((r) => r.status), [404]);
});

t.test('the same event emitted twice (two replicas) is delivered once; a signed delivery verifies', async (t) => {
  const rx = new Receiver();
  await rx.listen();
  t.teardown(() => rx.stop());
  const { notifier, consumer } = await setup(t, 'n-dedup', [{ url: rx.url, secret: 'shh' }, { url: `${rx.url}?only=drifted`, events: ['drifted'] }]);
  const done = settled(consumer.worker, 'completed');
  const ev = errorEvent('dedup');
  t.equal(await notifier.emit(ev), 1, 'one receiver wants errors');
  await done;
  t.equal(await notifier.emit({ ...ev, at: new Date(Date.now() + 5000).toISOString() }), 0, 'the second replica adds nothing (job kept as completed)');
  // a later, different event goes through behind it: once it arrived, the duplicate certainly did not
  const later = settled(consumer.worker, 'completed');
  await notifier.emit(errorEvent('after'));
  await later;
  t.same(rx.delivered.map((r) => r.json.subject), ['up.example/demo/dedup:1', 'up.example/demo/after:1']);
  const r = rx.delivered[0]!;
  t.ok(verifySignature(r.body, 'shh', r.headers['x-ferry-signature-256'] as string), 'X-Ferry-Signature-256 verifies over the raw body');
  t.notOk(verifySignature(r.body, 'wrong', r.headers['x-ferry-signature-256'] as string));
});

t.test('a receiver removed by a config reload gets nothing more', async (t) => {
  const rx = new Receiver();
  await rx.listen();
  t.teardown(() => rx.stop());
  rx.answers = [503];
  const { notifier, consumer, setConfig } = await setup(t, 'n-reload', [{ url: rx.url }]);
  const retrying = settled(consumer.worker, 'failed');
  await notifier.emit(errorEvent('reload'));
  await retrying;
  setConfig(config('n-reload', []));
  const { job } = await settled(consumer.worker, 'completed');
  t.match(job.returnvalue, { outcome: 'dropped' });
  t.same(rx.requests.map((r) => r.status), [503]);
});

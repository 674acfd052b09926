/**
 * Through the real paths: a real upstream and mirror (docker-registry), a
 * real redis-server, the real watcher and copy workers. A tag moved upstream
 * is delivered as exactly one io.ferry.tagMoved CloudEvent carrying the
 * config diff; a copy that fails for good is delivered as io.ferry.error.
 */
import t from 'tap';
import { pino } from 'pino';
import type { FerryConfig } from '../../src/config/index.js';
import { Notifier, notifyWatchChanges, startNotifyConsumer, tagMovedInput, type PolledLike } from '../../src/notify/index.js';
import { connectRedis, createQueue, ImageStore, Producer } from '../../src/queue/index.js';
import { toMirrorReference } from '../../src/reference/index.js';
import { runRefresh } from '../../src/refresh/index.js';
import { RegistryEngine } from '../../src/registry/index.js';
import type { PollReport } from '../../src/watch/index.js';
import { createWorkerPool } from '../../src/worker/index.js';
import { harness, testConfig } from '../watch/support/env.js';
import { api, polled, startE2E } from '../watch/support/e2e.js';
import { pushConfigImage } from './support/images.js';
import { Receiver } from './support/receiver.js';

const logger = pino({ level: process.env.FERRY_TEST_LOG ?? 'silent' });
const { redis, upstream, mirror, watch, stop } = await startE2E();
t.teardown(stop);
const rx = new Receiver();
await rx.listen();
t.teardown(() => rx.stop());

const withNotify = (c: FerryConfig): FerryConfig => ({ ...c, queue: { ...c.queue, backoff: { initialMs: 20, maxMs: 100 } }, notify: [{ url: rx.url, events: ['tagMoved', 'error'], secret: 'k' }] });

t.test('a tag moved upstream: one io.ferry.tagMoved with the config diff', async (t) => {
  const repo = 'demo/contract';
  const v1 = await pushConfigImage(upstream, repo, 'stable', {
    ExposedPorts: { '80/tcp': {} },
    Env: ['PATH=/usr/bin', 'LEGACY_MODE=1'],
    Entrypoint: ['/app'],
    Cmd: ['serve'],
    Labels: { 'org.opencontainers.image.version': '1.0', gone: 'x' },
  });
  const h = await harness({ redisUrl: redis.url, mirror, prefix: 'notify-moved', watch: [watch('contract', `${repo}:stable`, { strategy: 'digest' })] });
  t.teardown(() => h.close());
  await h.setConfig(withNotify(h.config));
  const conns = [connectRedis(redis.url), connectRedis(redis.url)];
  const engine = new RegistryEngine({ config: h.config, retries: 0 });
  const notifier = new Notifier({ connection: conns[0]!, config: () => h.config });
  const consumer = startNotifyConsumer({ connection: conns[1]!, config: () => h.config, engine, logger });
  const stopListening = notifyWatchChanges(h.watcher, notifier, (e) => t.fail(`emit failed: ${String(e)}`));
  t.teardown(async () => {
    stopListening();
    await consumer.close();
    await notifier.close();
    await engine.close();
    for (const c of conns) c.disconnect();
  });

  const first = polled(h, 'contract');
  await h.watcher.start();
  t.match(await first, { result: 'initial' });
  await h.mirrored(v1.ref, v1.digest);

  const v2 = await pushConfigImage(upstream, repo, 'stable', {
    ExposedPorts: { '8080/tcp': {} },
    Env: ['PATH=/bin', 'NEW_SECRET=hunter2'],
    Entrypoint: ['/app'],
    Cmd: ['serve', '--fast'],
    User: '1000',
    Labels: { 'org.opencontainers.image.version': '2.0', added: 'y' },
  });
  const moved = await api<PollReport>(`${h.url}/api/watches/contract/poll`, 'POST');
  t.match(moved.body, { result: 'moved', change: { oldDigest: v1.digest, newDigest: v2.digest } });
  const got = await rx.next((r) => r.json?.type === 'io.ferry.tagMoved' && r.status === 200);
  t.match(got.json, {
    specversion: '1.0',
    type: 'io.ferry.tagMoved',
    source: `ferry://${mirror.host}/watch/contract`,
    subject: v1.ref,
    datacontenttype: 'application/json',
    data: {
      ref: v1.ref,
      mirrorRef: h.mirrorRefOf(v1.ref),
      oldDigest: v1.digest,
      newDigest: v2.digest,
      watchId: 'contract',
      kind: 'moved',
      configDiff: {
        changed: true,
        exposedPorts: { added: ['8080/tcp'], removed: ['80/tcp'] },
        envNames: { added: ['NEW_SECRET'], removed: ['LEGACY_MODE'] },
        cmd: { old: ['serve'], new: ['serve', '--fast'] },
        user: { old: null, new: '1000' },
        labels: { added: { added: 'y' }, removed: { gone: 'x' }, changed: { 'org.opencontainers.image.version': { old: '1.0', new: '2.0' } } },
      },
    },
  });
  t.notOk('entrypoint' in got.json.data.configDiff, 'unchanged entrypoint not reported');
  t.notMatch(got.body, /hunter2/, 'env values never leave ferry');
  t.match(got.headers['x-ferry-signature-256'], /^sha256=[0-9a-f]{64}$/);

  // another replica (or a retried poll) reporting the same change adds nothing
  t.equal(await notifier.emit(tagMovedInput(moved.body as PolledLike)!), 0);
  t.equal(rx.requests.filter((r) => r.json?.type === 'io.ferry.tagMoved').length, 1, 'exactly one tagMoved delivered');
});

t.test('a copy that fails for good: io.ferry.error', async (t) => {
  const prefix = 'notify-error';
  const cfg = withNotify(testConfig({ mirror: mirror.host, prefix }));
  const conns = [connectRedis(redis.url), connectRedis(redis.url), connectRedis(redis.url)];
  const store = new ImageStore(conns[0]!, prefix);
  const queue = createQueue(conns[0]!, prefix);
  const producer = new Producer({ store, queue, maxAttempts: () => cfg.queue.maxAttempts, bufferLimit: 100 });
  const engine = new RegistryEngine({ config: cfg, retries: 0 });
  const notifier = new Notifier({ connection: conns[0]!, config: () => cfg });
  const pool = createWorkerPool({ connection: conns[1]!, store, config: cfg, engine, logger, notifier, countsIntervalMs: 0 });
  const consumer = startNotifyConsumer({ connection: conns[2]!, config: () => cfg, engine, logger });
  t.teardown(async () => {
    await pool.close();
    await consumer.close();
    await notifier.close();
    await producer.close();
    await queue.close();
    await engine.close();
    for (const c of conns) c.disconnect();
  });
  const ref = `${upstream.host}/demo/never-pushed:1`;
  await producer.enqueueNow({ ref, mirrorRef: toMirrorReference(ref, { registry: cfg.mirror.registry, prefix: '' }), source: 'api' });
  const got = await rx.next((r) => r.json?.type === 'io.ferry.error' && r.json.subject === ref);
  t.match(got.json, { source: `ferry://${mirror.host}/worker`, data: { ref, newDigest: null, error: { code: /^FERRY_ERR_/, message: /./ }, configDiff: null } });
  t.match(await store.get(ref), { state: 'error' }, 'the event follows the record going to error');
});

t.test('mirrored (first copy, then with its old digest) and drifted from a refresh run', async (t) => {
  const prefix = 'notify-drift';
  const base = testConfig({ mirror: mirror.host, prefix });
  const cfg: FerryConfig = { ...withNotify(base), refresh: { ...base.refresh, inUseOnly: false }, notify: [{ url: rx.url, events: ['mirrored', 'drifted'] }] };
  const conns = [connectRedis(redis.url), connectRedis(redis.url), connectRedis(redis.url)];
  const store = new ImageStore(conns[0]!, prefix);
  const queue = createQueue(conns[0]!, prefix);
  const producer = new Producer({ store, queue, maxAttempts: () => cfg.queue.maxAttempts, bufferLimit: 100 });
  const engine = new RegistryEngine({ config: cfg, retries: 0 });
  const notifier = new Notifier({ connection: conns[0]!, config: () => cfg });
  const pool = createWorkerPool({ connection: conns[1]!, store, config: cfg, engine, logger, notifier, countsIntervalMs: 0 });
  const consumer = startNotifyConsumer({ connection: conns[2]!, config: () => cfg, engine, logger });
  t.teardown(async () => {
    await pool.close();
    await consumer.close();
    await notifier.close();
    await producer.close();
    await queue.close();
    await engine.close();
    for (const c of conns) c.disconnect();
  });
  const mirrorRefOf = (ref: string) => toMirrorReference(ref, { registry: cfg.mirror.registry, prefix: '' });
  const repo = 'demo/drifting';
  const v1 = await pushConfigImage(upstream, repo, 'stable', { Env: ['A=1'], ExposedPorts: { '80/tcp': {} } });
  await producer.enqueueNow({ ref: v1.ref, mirrorRef: mirrorRefOf(v1.ref), source: 'admission' });
  const first = await rx.next((r) => r.json?.type === 'io.ferry.mirrored' && r.json.subject === v1.ref);
  t.match(first.json.data, { oldDigest: null, newDigest: v1.digest, configDiff: null, configDiffReason: /no previous digest/ });
  t.notOk(first.headers['x-ferry-signature-256'], 'this receiver has no secret');

  const v2 = await pushConfigImage(upstream, repo, 'stable', { Env: ['A=1', 'B=2'], ExposedPorts: { '80/tcp': {} } });
  const report = await runRefresh({ config: () => cfg, redis: conns[0]!, store, producer, engine, mirrorRefOf, logger, notifier });
  t.match(report, { moved: 1, moves: [{ ref: v1.ref, oldDigest: v1.digest, newDigest: v2.digest }] });
  const drifted = await rx.next((r) => r.json?.type === 'io.ferry.drifted' && r.json.subject === v1.ref);
  t.match(drifted.json, { source: `ferry://${mirror.host}/refresh`, data: { oldDigest: v1.digest, newDigest: v2.digest, configDiff: { changed: true, envNames: { added: ['B'], removed: [] } } } });
  const again = await rx.next((r) => r.json?.type === 'io.ferry.mirrored' && r.json.data.newDigest === v2.digest);
  t.match(again.json.data, { oldDigest: v1.digest, newDigest: v2.digest, configDiff: { envNames: { added: ['B'] } } });
});

/**
 * The API end to end: a real worker pool copying between two real
 * docker-registry processes, records in a real Redis, watched over SSE.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, inspectRaw, pushImage } from '../support/images.js';
import { freePort } from '../support/process.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import { startDashboardApp } from './support/context.js';
import { call, enc } from './support/http.js';
import { SseClient } from './support/sse.js';

const TOKEN = 'e2e-token';
const [redis, upstream, mirror, noDeleteMirror] = await Promise.all([startRedis(), startRegistry(), startRegistry(), startRegistry({ deleteEnabled: false })]);
const layouts = mkdtempSync(join(tmpdir(), 'ferry-dash-e2e-'));
t.teardown(async () => {
  await Promise.all([redis.stop(), upstream.stop(), mirror.stop(), noDeleteMirror.stop()]);
  rmSync(layouts, { recursive: true, force: true });
});

let n = 0;
async function push(registry: string, repo: string, tag: string, layerSizes: number[]) {
  const layout = join(layouts, `l${n++}`);
  const image = buildImage(layout, { tag, layerSizes });
  await pushImage(layout, tag, `${registry}/${repo}:${tag}`);
  return image;
}

t.test('add -> queued -> copying -> mirrored over SSE; delete ?fromMirror=true removes the manifest', async (t) => {
  const app = await startDashboardApp({
    redisUrl: redis.url,
    prefix: 'e2e1',
    configure: (c) => {
      c.dashboard.token = TOKEN;
      c.mirror.registry = mirror.host;
    },
  });
  t.teardown(() => app.close());
  app.startWorker();
  const image = await push(upstream.host, 'team/api', '2.1', [600 * 1024, 300 * 1024]);
  const ref = `${upstream.host}/team/api:2.1`;
  const sse = await SseClient.open(`${app.url}/api/events`);
  t.teardown(() => sse.close());
  await sse.wait((f) => f.event === 'hello', 'hello');

  const added = await call(app.url, 'POST', '/api/images', { body: { ref }, token: TOKEN });
  t.equal(added.status, 202);
  t.equal(added.body.state, 'queued');
  const done = await sse.state(ref, 'mirrored');
  t.same(sse.states(ref), ['queued', 'copying', 'mirrored'], 'every state change relayed, in order');
  t.match(done, { digest: image.digest, attempts: 1, lastError: null });
  t.ok(done.bytesTotal >= 900 * 1024, `bytesTotal ${done.bytesTotal}`);
  const got = await call(app.url, 'GET', `/api/images/${enc(ref)}`);
  t.match(got.body, { state: 'mirrored', digest: image.digest, mirrorRef: app.ctx.mirrorRefOf(ref) });
  t.equal((await inspectRaw(got.body.mirrorRef))?.digest, image.digest, 'the worker really copied it');

  const stats = await call(app.url, 'GET', '/api/stats');
  t.match(stats.body, { counts: { mirrored: 1 }, throughput: { imagesLastMinute: 1 } });
  t.ok(stats.body.throughput.bytesLastMinute >= done.bytesTotal, `throughput saw ${stats.body.throughput.bytesLastMinute} bytes`);
  t.ok(stats.body.queue.completed >= 1);

  const del = await call(app.url, 'DELETE', `/api/images/${enc(ref)}?fromMirror=true`, { token: TOKEN });
  t.equal(del.status, 200);
  t.match(del.body, { ref, removed: true, mirror: { deleted: true, digest: image.digest } });
  t.equal(await inspectRaw(got.body.mirrorRef), undefined, 'manifest gone from the mirror');
  await sse.wait((f) => f.event === 'removed' && JSON.parse(f.data).ref === ref, 'removed event');
  t.equal((await call(app.url, 'GET', `/api/images/${enc(ref)}`)).status, 404);
});

t.test('missing upstream -> error; retry re-queues and the worker tries again', async (t) => {
  const app = await startDashboardApp({
    redisUrl: redis.url,
    prefix: 'e2e2',
    configure: (c) => {
      c.dashboard.token = TOKEN;
      c.mirror.registry = mirror.host;
      c.queue.maxAttempts = 2;
      c.queue.backoff = { initialMs: 100, maxMs: 1000 };
    },
  });
  t.teardown(() => app.close());
  app.startWorker();
  const ref = `${upstream.host}/team/missing:1`; // the registry runs, the image does not exist
  const gone = `127.0.0.1:${await freePort()}/team/nothing:1`; // nothing listens: transient, retried
  const sse = await SseClient.open(`${app.url}/api/events`);
  t.teardown(() => sse.close());
  for (const r of [ref, gone]) t.equal((await call(app.url, 'POST', '/api/images', { body: { ref: r }, token: TOKEN })).status, 202);
  const err = await sse.state(ref, 'error');
  t.match(err.lastError, /MANIFEST_UNKNOWN|NAME_UNKNOWN|not exist|unknown/i);
  const retrying = await sse.state(gone, 'retrying');
  t.ok(retrying.nextAttemptAt, 'retrying carries the next attempt time');
  await sse.state(gone, 'error');

  const before = sse.states(ref).length;
  const r = await call(app.url, 'POST', `/api/images/${enc(ref)}/retry`, { token: TOKEN });
  t.equal(r.status, 202);
  t.match(r.body, { state: 'queued', lastError: null, attempts: 0 });
  await sse.wait((f) => f.event === 'state' && JSON.parse(f.data).ref === ref && JSON.parse(f.data).record.state === 'error' && sse.states(ref).length > before + 1, 'error again after the retry');
  t.same(sse.states(ref).slice(before), ['queued', 'copying', 'error'], 'the retry ran a new attempt');
  const stats = await call(app.url, 'GET', '/api/stats');
  t.equal(stats.body.counts.error, 2);
  t.ok(stats.body.throughput.failuresLastMinute >= 2);
});

t.test('delete ?fromMirror=true on a mirror with deletes disabled: 409, record kept', async (t) => {
  const app = await startDashboardApp({
    redisUrl: redis.url,
    prefix: 'e2e3',
    configure: (c) => {
      c.dashboard.token = TOKEN;
      c.mirror.registry = noDeleteMirror.host;
    },
  });
  t.teardown(() => app.close());
  const ref = 'docker.io/library/busybox:1.36';
  const mirrorRef = app.ctx.mirrorRefOf(ref);
  const image = await push(noDeleteMirror.host, mirrorRef.slice(noDeleteMirror.host.length + 1).split(':')[0]!, '1.36', [1024]);
  await app.ctx.store.update(ref, { state: 'mirrored', mirrorRef, digest: image.digest, attempts: 1, maxAttempts: 3, mirroredAt: new Date().toISOString() }, { upsert: true });
  const r = await call(app.url, 'DELETE', `/api/images/${enc(ref)}?fromMirror=true`, { token: TOKEN });
  t.equal(r.status, 409);
  t.match(r.body, { code: 'FERRY_ERR_REGISTRY_DELETE_DISABLED', message: /deletes disabled/, hint: /storage\.delete\.enabled/ });
  t.equal((await call(app.url, 'GET', `/api/images/${enc(ref)}`)).body.state, 'mirrored', 'record kept');
  t.equal((await inspectRaw(mirrorRef))?.digest, image.digest, 'manifest still there');
  // Without ?fromMirror the record can still be forgotten.
  t.equal((await call(app.url, 'DELETE', `/api/images/${enc(ref)}`, { token: TOKEN })).status, 200);
});

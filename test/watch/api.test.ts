/**
 * The watch API: list, history, poll, and editing API-defined watches
 * (stored in Redis, merged with the read-only config-file watches), plus the
 * one-scheduler-per-watch guarantee across two replicas and hot reload.
 */
import t from 'tap';
import { deriveWatchId, WATCH_QUEUE_NAME, type PollReport, type WatchView } from '../../src/watch/index.js';
import { freePort } from '../support/process.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import { cleanupLayouts, harness, nextEvent, push } from './support/env.js';

const [redis, upstream, mirror] = await Promise.all([startRedis(), startRegistry(), startRegistry()]);
t.teardown(async () => {
  await Promise.all([redis.stop(), upstream.stop(), mirror.stop()]);
  cleanupLayouts();
});
await push(upstream, 'demo/api', '1.0.0');
await push(upstream, 'demo/api', '1.1.0');
await push(upstream, 'demo/api', '2.0.0');

const YEARLY = '0 0 1 1 *';

async function call<T = any>(url: string, method = 'GET', body?: unknown, token?: string): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

t.test('list, edit through the API, config-file watches read-only', async (t) => {
  const fileWatch = { image: `${upstream.host}/demo/api`, strategy: 'semver' as const, constraint: '^1', schedule: YEARLY };
  const fileId = deriveWatchId(fileWatch);
  const h = await harness({ redisUrl: redis.url, mirror, prefix: 'api', token: 'tok', workers: false, watch: [fileWatch] });
  t.teardown(() => h.close());
  const started = nextEvent<PollReport>(h.watcher, 'polled', (r) => r.id === fileId);
  await h.watcher.start();
  t.match(await started, { result: 'initial', selected: { tag: '1.1.0' } });
  t.match(fileId, /^127\.0\.0\.1-\d+-demo-api-semver-[0-9a-f]{6}$/, 'derived id: readable + hash');

  let list = (await call<{ watches: WatchView[] }>(`${h.url}/api/watches`)).body.watches;
  t.match(list, [{ id: fileId, source: 'config', config: fileWatch, lastResult: 'initial', selected: { tag: '1.1.0' } }]);

  // Mutations need the token.
  const body = { image: `${upstream.host}/demo/api`, strategy: 'semver', constraint: '>=2', schedule: YEARLY };
  t.equal((await call(`${h.url}/api/watches/two`, 'PUT', body)).status, 401);
  t.equal((await call(`${h.url}/api/watches/${fileId}/poll`, 'POST')).status, 401);

  // Validation lists every problem.
  const bad = await call(`${h.url}/api/watches/bad`, 'PUT', { image: 'docker.io/Upper/case', strategy: 'semver', schedule: 'every minute', allowTags: '(' }, 'tok');
  t.equal(bad.status, 400);
  t.equal(bad.body.code, 'FERRY_ERR_WATCH_INVALID');
  t.match(bad.body.details.problems.join('\n'), /schedule[\s\S]*allowTags|allowTags[\s\S]*schedule/);
  t.match(bad.body.details.problems.join('\n'), /image: .*lowercase/);
  t.equal((await call(`${h.url}/api/watches/bad`, 'PUT', { ...body, constraint: 'nope' }, 'tok')).body.code, 'FERRY_ERR_WATCH_INVALID');
  t.equal((await call(`${h.url}/api/watches/bad`, 'PUT', { ...body, image: 'Not A Ref' }, 'tok')).status, 400);
  t.equal((await call(`${h.url}/api/watches/bad`, 'PUT', { ...body, id: 'other' }, 'tok')).status, 400, 'body id must match the URL');

  // Config-file watches are read-only through the API.
  t.match(await call(`${h.url}/api/watches/${fileId}`, 'PUT', body, 'tok'), { status: 409, body: { code: 'FERRY_ERR_WATCH_READ_ONLY' } });
  t.match(await call(`${h.url}/api/watches/${fileId}`, 'DELETE', undefined, 'tok'), { status: 409 });

  // Create: stored in Redis, scheduled, polled at once.
  const firstPoll = nextEvent<PollReport>(h.watcher, 'polled', (r) => r.id === 'two');
  const created = await call<WatchView>(`${h.url}/api/watches/two`, 'PUT', body, 'tok');
  t.equal(created.status, 201);
  t.match(created.body, { id: 'two', source: 'api', config: { ...body, id: 'two' } });
  t.match(await firstPoll, { trigger: 'start', result: 'initial', selected: { tag: '2.0.0' } });
  t.same(Object.keys(await h.conn.hgetall('api:watches:defs')), ['two']);
  t.same([...(await h.watcher.scheduler.schedules()).keys()].sort(), [fileId, 'two'].sort());

  // Edit: 200, polled again with the new constraint.
  const edited = nextEvent<PollReport>(h.watcher, 'polled', (r) => r.id === 'two');
  t.equal((await call(`${h.url}/api/watches/two`, 'PUT', { ...body, constraint: '~1.0' }, 'tok')).status, 200);
  t.match(await edited, { trigger: 'api', result: 'new-tag', selected: { tag: '1.0.0' }, change: { previousTag: '2.0.0' } });

  list = (await call<{ watches: WatchView[] }>(`${h.url}/api/watches`)).body.watches;
  t.same(list.map((w) => [w.id, w.source]), [[fileId, 'config'], ['two', 'api']]);

  // Poll and history.
  t.match(await call(`${h.url}/api/watches/two/poll`, 'POST', undefined, 'tok'), { status: 200, body: { result: 'unchanged', trigger: 'api' } });
  t.match(await call(`${h.url}/api/watches/nope/poll`, 'POST', undefined, 'tok'), { status: 404, body: { code: 'FERRY_ERR_WATCH_NOT_FOUND' } });
  t.match((await call(`${h.url}/api/watches/two/history`)).body.events, [{ kind: 'new-tag', tag: '1.0.0' }, { kind: 'initial', tag: '2.0.0' }]);
  t.match(await call(`${h.url}/api/watches/nope/history`), { status: 404 });
  t.match(await call(`${h.url}/api/watches/nope`), { status: 404 });

  // A transient failure (registry unreachable) schedules one early retry instead of waiting a year.
  const dead = `127.0.0.1:${await freePort()}`;
  const failed = nextEvent<PollReport>(h.watcher, 'polled', (r) => r.id === 'down');
  t.equal((await call(`${h.url}/api/watches/down`, 'PUT', { ...body, image: `${dead}/demo/api` }, 'tok')).status, 201);
  t.match(await failed, { result: 'error', error: { code: 'FERRY_ERR_REGISTRY_UNREACHABLE' }, retryInMs: 30_000 });
  t.equal(await h.watcher.scheduler.queue.getJobState('retry-down'), 'delayed');
  t.match((await call<WatchView>(`${h.url}/api/watches/down`)).body, { lastResult: 'error', consecutiveErrors: 1, error: { code: 'FERRY_ERR_REGISTRY_UNREACHABLE' } });
  t.equal((await call(`${h.url}/api/watches/down`, 'DELETE', undefined, 'tok')).status, 204);
  t.equal(await h.watcher.scheduler.queue.getJobState('retry-down'), 'unknown', 'deleting the watch cancels its retry');

  // Delete: gone from the list and the schedules; history stays for audit.
  t.equal((await call(`${h.url}/api/watches/two`, 'DELETE', undefined, 'tok')).status, 204);
  t.match(await call(`${h.url}/api/watches/two`), { status: 404 });
  t.same([...(await h.watcher.scheduler.schedules()).keys()], [fileId]);
  t.equal((await call(`${h.url}/api/watches/two/history`)).body.events.length, 2);
  t.match(await call(`${h.url}/api/watches/two`, 'DELETE', undefined, 'tok'), { status: 404 });
});

t.test('two replicas share one scheduler per watch; hot reload adds and removes schedules', async (t) => {
  const every = { id: 'tick', image: `${upstream.host}/demo/api`, strategy: 'semver' as const, constraint: '*', schedule: '* * * * * *' };
  const a = await harness({ redisUrl: redis.url, mirror, prefix: 'replicas', workers: false, watch: [every] });
  const b = await harness({ redisUrl: redis.url, mirror, prefix: 'replicas', workers: false, watch: [every] });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const ticks: PollReport[] = [];
  let done!: () => void;
  const enough = new Promise<void>((r) => (done = r));
  for (const h of [a, b]) {
    h.watcher.on('polled', (r: PollReport) => {
      if (r.trigger !== 'schedule') return;
      ticks.push(r);
      if (ticks.length === 3) done();
    });
  }
  await Promise.all([a.watcher.start(), b.watcher.start()]);
  await enough;
  t.equal(new Set(ticks.slice(0, 3).map((r) => r.jobId)).size, 3, `each tick polled once: ${ticks.map((r) => r.jobId).join(', ')}`);
  t.same([...(await a.watcher.scheduler.schedules()).keys()], ['tick'], 'one scheduler for both replicas');
  t.equal(WATCH_QUEUE_NAME, 'watch');
  t.ok((await a.conn.keys('replicas:watch:*')).length > 0, 'BullMQ queue "watch" under the ferry prefix');

  // Hot reload: the watch leaves the config, another arrives.
  const next = { ...a.config, watch: [{ ...every, id: 'other', schedule: '0 0 1 1 *' }] };
  const otherPolled = Promise.race([a, b].map((h) => nextEvent<PollReport>(h.watcher, 'polled', (r) => r.id === 'other')));
  await a.setConfig(next);
  await b.setConfig(next);
  t.same([...(await a.watcher.scheduler.schedules()).keys()], ['other']);
  t.match(await otherPolled, { trigger: 'start', result: 'initial' });
  t.same((await a.watcher.list()).map((w) => w.id), ['other']);
});

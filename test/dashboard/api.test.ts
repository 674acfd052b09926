/**
 * Dashboard JSON API against a real Redis with real records (written through
 * ImageStore, as workers do): validation, auth, listing at 10k records, SSE.
 * The end-to-end flows with a real worker and registries are in e2e.test.ts.
 */
import t from 'tap';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { dashboardBindHost } from '../../src/dashboard/index.js';
import { DEFAULTS } from '../../src/config/index.js';
import { connectRedis } from '../../src/queue/index.js';
import { startRedis } from '../support/redis.js';
import { startDashboardApp } from './support/context.js';
import { call, enc, rawCall } from './support/http.js';
import { seedRecords, stateFor } from './support/seed.js';
import { SseClient } from './support/sse.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

const TOKEN = 's3cret-token';

t.test('dashboardBindHost: loopback without a token, dashboard.host with one', async (t) => {
  const c = structuredClone(DEFAULTS);
  c.dashboard.host = '0.0.0.0';
  t.equal(dashboardBindHost(c), '127.0.0.1');
  c.dashboard.token = 'x';
  t.equal(dashboardBindHost(c), '0.0.0.0');
});

t.test('validation and auth', async (t) => {
  const app = await startDashboardApp({
    redisUrl: redis.url,
    prefix: 'v',
    configure: (c) => {
      c.dashboard.token = TOKEN;
      c.mirror.registry = 'mirror.local:5000';
      c.block = [{ pattern: 'docker.io/library/evil*', reason: 'CVE-2099-0001' }];
    },
  });
  t.teardown(() => app.close());
  const u = app.url;

  t.notOk(app.ctx.logs.some((l) => l.includes('dashboard.token is empty')), 'no loopback warning with a token');

  // Missing / wrong token: 401 with the FerryError shape and a WWW-Authenticate challenge.
  let r = await call(u, 'POST', '/api/images', { body: { ref: 'nginx:1.27' } });
  t.equal(r.status, 401);
  t.equal(r.body.code, 'FERRY_ERR_DASHBOARD_UNAUTHORIZED');
  t.match(r.headers.get('www-authenticate'), /Bearer/);
  r = await call(u, 'POST', '/api/images', { body: { ref: 'nginx:1.27' }, token: 'wrong' });
  t.equal(r.status, 401);
  for (const [method, path] of [
    ['POST', `/api/images/${enc('nginx:1.27')}/retry`],
    ['DELETE', `/api/images/${enc('nginx:1.27')}`],
    ['POST', `/api/images/${enc('nginx:1.27')}/block`],
    ['POST', `/api/images/${enc('nginx:1.27')}/unblock`],
  ] as const) {
    t.equal((await call(u, method, path, { body: {} })).status, 401, `${method} ${path} needs the token`);
  }
  t.equal((await app.ctx.store.counts()).queued, 0, 'nothing was enqueued without the token');

  // Bad references: 400 with the reference module's code, message and hint.
  r = await call(u, 'POST', '/api/images', { body: { ref: 'Docker.io/UPPER/Case:1' }, token: TOKEN });
  t.equal(r.status, 400);
  t.match(r.body, { code: /^FERRY_ERR_REFERENCE_/, message: /invalid image reference/, hint: String });
  r = await call(u, 'POST', '/api/images', { body: { ref: 'nginx:bad tag!' }, token: TOKEN });
  t.equal(r.status, 400);
  t.match(r.body.code, /^FERRY_ERR_REFERENCE_INVALID_FORMAT$/);
  r = await call(u, 'POST', '/api/images', { body: { nope: 1 }, token: TOKEN });
  t.equal(r.status, 400);
  t.equal(r.body.code, 'FERRY_ERR_DASHBOARD_BAD_REQUEST');
  r = await call(u, 'POST', '/api/images', { body: { ref: 'mirror.local:5000/docker.io/library/nginx:1' }, token: TOKEN });
  t.equal(r.status, 400, 'a mirror reference is refused');
  t.match(r.body, { code: 'FERRY_ERR_DASHBOARD_IN_MIRROR', hint: /docker\.io\/library\/nginx:1/ });
  r = await call(u, 'POST', '/api/images', { body: { ref: 'evil-tool:1' }, token: TOKEN });
  t.equal(r.status, 409, 'a ref matched by a config block rule is refused');
  t.match(r.body, { code: 'FERRY_ERR_DASHBOARD_BLOCKED_BY_CONFIG', message: /CVE-2099-0001/ });

  // GET with bad refs / unencoded refs / unknown refs.
  r = await call(u, 'GET', `/api/images/${enc('docker.io/UPPER/x')}`);
  t.equal(r.status, 400);
  t.match(r.body.code, /^FERRY_ERR_REFERENCE_/);
  r = await call(u, 'GET', '/api/images/docker.io/library/nginx:1.27');
  t.equal(r.status, 400, 'slashes must be encoded');
  t.equal(r.body.code, 'FERRY_ERR_DASHBOARD_REF_NOT_ENCODED');
  r = await call(u, 'GET', `/api/images/${enc('nginx:1.27')}`);
  t.equal(r.status, 404);
  t.equal(r.body.code, 'FERRY_ERR_DASHBOARD_NOT_FOUND');
  r = await call(u, 'GET', '/api/images?state=bogus');
  t.equal(r.status, 400);
  t.match(r.body.message, /unknown state "bogus"/);
  t.equal((await call(u, 'GET', '/api/images?limit=0')).status, 400);
  t.equal((await call(u, 'GET', '/api/images?sort=size')).status, 400);

  // With the token: normalized, enqueued, 202 with the record; a BullMQ job exists.
  r = await call(u, 'POST', '/api/images', { body: { ref: 'nginx:1.27' }, token: TOKEN });
  t.equal(r.status, 202);
  t.match(r.body, { ref: 'docker.io/library/nginx:1.27', mirrorRef: 'mirror.local:5000/docker.io/library/nginx:1.27', state: 'queued', attempts: 0, maxAttempts: 3, source: 'api' });
  t.equal((await app.ctx.queue.getJobCounts('waiting')).waiting, 1);
  r = await call(u, 'POST', '/api/images', { body: { ref: 'docker.io/library/nginx:1.27' }, token: TOKEN });
  t.equal(r.status, 200, 'adding a known image again leaves it alone');
  t.equal((await app.ctx.queue.getJobCounts('waiting')).waiting, 1);
  // GET by any spelling of the ref.
  r = await call(u, 'GET', `/api/images/${enc('nginx:1.27')}`);
  t.equal(r.status, 200);
  t.equal(r.body.ref, 'docker.io/library/nginx:1.27');
  for (const k of ['ref', 'mirrorRef', 'state', 'attempts', 'maxAttempts', 'lastError', 'nextAttemptAt', 'digest', 'bytesTotal', 'bytesDone', 'updatedAt']) {
    t.ok(k in r.body, `record has ${k}`);
  }

  // block -> retry refused -> unblock re-queues; block needs a reason.
  const ref = 'docker.io/library/nginx:1.27';
  r = await call(u, 'POST', `/api/images/${enc(ref)}/block`, { body: {}, token: TOKEN });
  t.equal(r.status, 400);
  r = await call(u, 'POST', `/api/images/${enc(ref)}/block`, { body: { reason: 'CVE-2024-0001' }, token: TOKEN });
  t.equal(r.status, 200);
  t.match(r.body, { state: 'blocked', blockedReason: 'CVE-2024-0001' });
  t.equal((await app.ctx.queue.getJobCounts('waiting')).waiting, 0, 'blocking drops the pending job');
  r = await call(u, 'POST', `/api/images/${enc(ref)}/retry`, { token: TOKEN });
  t.equal(r.status, 409);
  t.equal(r.body.code, 'FERRY_ERR_DASHBOARD_BLOCKED');
  r = await call(u, 'POST', '/api/images', { body: { ref }, token: TOKEN });
  t.equal(r.status, 409, 'adding a blocked image says so');
  r = await call(u, 'POST', `/api/images/${enc(ref)}/unblock`, { body: {}, token: TOKEN });
  t.equal(r.status, 202);
  t.match(r.body, { state: 'queued', blockedReason: null, attempts: 0 });
  t.equal((await app.ctx.queue.getJobCounts('waiting')).waiting, 1, 'unblock re-queued a job');
  r = await call(u, 'POST', `/api/images/${enc(ref)}/unblock`, { body: {}, token: TOKEN });
  t.equal(r.status, 409, 'unblocking what is not blocked is a conflict');
  // Blocking an unknown image creates a blocked record; unblock {requeue:false} forgets it.
  r = await call(u, 'POST', `/api/images/${enc('alpine:3')}/block`, { body: { reason: 'not allowed here' }, token: TOKEN });
  t.match(r.body, { ref: 'docker.io/library/alpine:3', state: 'blocked', mirrorRef: 'mirror.local:5000/docker.io/library/alpine:3' });
  r = await call(u, 'POST', `/api/images/${enc('alpine:3')}/unblock`, { body: { requeue: false }, token: TOKEN });
  t.same(r.body, { ref: 'docker.io/library/alpine:3', removed: true });

  // retry: clears the error and re-queues now.
  await app.ctx.store.update(ref, { state: 'error', lastError: 'boom', attempts: 3 });
  await app.ctx.producer.removePendingJob(ref);
  r = await call(u, 'POST', `/api/images/${enc(ref)}/retry`, { token: TOKEN });
  t.equal(r.status, 202);
  t.match(r.body, { state: 'queued', lastError: null, attempts: 0 });
  t.equal((await app.ctx.queue.getJobCounts('waiting')).waiting, 1);

  // delete forgets the record and its pending job.
  r = await call(u, 'DELETE', `/api/images/${enc(ref)}`, { token: TOKEN });
  t.same(r.body, { ref, removed: true });
  t.equal((await app.ctx.queue.getJobCounts('waiting')).waiting, 0);
  t.equal((await call(u, 'GET', `/api/images/${enc(ref)}`)).status, 404);
  t.equal((await call(u, 'DELETE', `/api/images/${enc(ref)}`, { token: TOKEN })).status, 404);
});

t.test('no token: bound to loopback, warned in the log, mutations from loopback work', async (t) => {
  const app = await startDashboardApp({ redisUrl: redis.url, prefix: 'n', configure: (c) => (c.dashboard.host = '0.0.0.0') });
  t.teardown(() => app.close());
  t.match(app.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const warn = app.ctx.logs.map((l) => JSON.parse(l)).find((l) => /dashboard\.token is empty/.test(l.msg));
  t.ok(warn, 'warning logged');
  t.match(warn, { level: 40, bind: '127.0.0.1', ignoredHost: '0.0.0.0' });
  let r = await call(app.url, 'POST', '/api/images', { body: { ref: 'redis:7' } });
  t.equal(r.status, 202);
  // Cross-site requests from the operator's browser and DNS rebinding are refused.
  r = await call(app.url, 'POST', `/api/images/${enc('redis:7')}/retry`, { headers: { origin: 'https://evil.example' } });
  t.equal(r.status, 403, 'another site');
  t.equal(r.body.code, 'FERRY_ERR_DASHBOARD_NO_TOKEN_REMOTE');
  r = await rawCall(app.url, 'POST', `/api/images/${enc('redis:7')}/retry`, { host: 'rebind.evil.example:8080' });
  t.equal(r.status, 403, 'foreign Host');
  t.match(r.body.message, /not a loopback address/);
  r = await call(app.url, 'POST', `/api/images/${enc('redis:7')}/retry`, { headers: { origin: app.url } });
  t.equal(r.status, 202, 'the page itself');
  r = await rawCall(app.url, 'POST', `/api/images/${enc('redis:7')}/retry`, { host: app.url.replace('http://127.0.0.1', 'localhost'), origin: app.url.replace('127.0.0.1', 'localhost') });
  t.equal(r.status, 202, 'localhost works too');
});

t.test('10,000 records: pagination, cursor, filter, search, sort, live updates, speed', async (t) => {
  const N = 10_000;
  const prefix = 'big';
  const pre = buildRedis(redis.url);
  t.teardown(() => pre.disconnect());
  const mirrorRefOf = (ref: string) => `mirror.local:5000/${ref}`;
  const t0 = performance.now();
  const refs = await seedRecords(pre, prefix, N, mirrorRefOf);
  t.comment(`seeded ${N} records in ${Math.round(performance.now() - t0)} ms`);
  const app = await startDashboardApp({ redisUrl: redis.url, prefix, configure: (c) => (c.mirror.registry = 'mirror.local:5000') });
  t.teardown(() => app.close());
  const u = app.url;

  let r = await call(u, 'GET', '/api/images');
  t.equal(r.status, 200);
  t.equal(r.body.total, N);
  t.equal(r.body.items.length, 50, 'default page size');
  t.equal(r.body.items[0].ref, refs[0], 'newest first by default');
  t.equal(r.body.nextOffset, 50);
  // how fast that page is over 10,000 records is bench/dashboard's figure, not a pass/fail check

  // Offset pages do not overlap and cover everything in order.
  const p2 = await call(u, 'GET', '/api/images?limit=100&offset=100');
  t.same(p2.body.items.map((x: { ref: string }) => x.ref), refs.slice(100, 200));

  // Cursor walk over a filtered set.
  const errors = refs.filter((_r, i) => stateFor(i) === 'error');
  const walked: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `/api/images?state=error&limit=137${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await call(u, 'GET', q);
    t.equal(page.body.total, errors.length);
    walked.push(...page.body.items.map((x: { ref: string }) => x.ref));
    cursor = page.body.nextCursor;
  } while (cursor);
  t.same(walked, errors, 'cursor pages = every error record, in order');

  // Several states; search terms (AND, case-insensitive, over ref/mirrorRef/digest/error).
  r = await call(u, 'GET', '/api/images?state=error,retrying&limit=1');
  t.equal(r.body.total, refs.filter((_r, i) => ['error', 'retrying'].includes(stateFor(i))).length);
  r = await call(u, 'GET', `/api/images?q=${enc('GRAFANA')}&limit=500`);
  t.ok(r.body.total > 0);
  t.ok(r.body.items.every((x: { ref: string }) => x.ref.includes('grafana')));
  t.equal(r.body.total, refs.filter((x) => x.includes('grafana')).length);
  r = await call(u, 'GET', `/api/images?q=${enc('ghcr.io dex')}&state=error`);
  t.ok(r.body.items.every((x: { ref: string; state: string }) => x.ref.startsWith('ghcr.io/dexidp/dex') && x.state === 'error'));
  r = await call(u, 'GET', `/api/images?q=${enc('rate limit')}`);
  t.ok(r.body.total > 0 && r.body.items.every((x: { lastError: string }) => /rate limit/i.test(x.lastError)), 'search finds errors');

  // Sorts.
  r = await call(u, 'GET', '/api/images?sort=ref&limit=5');
  t.same(r.body.items.map((x: { ref: string }) => x.ref), [...refs].sort().slice(0, 5));
  r = await call(u, 'GET', '/api/images?sort=ref&order=desc&limit=5');
  t.same(r.body.items.map((x: { ref: string }) => x.ref), [...refs].sort().reverse().slice(0, 5));
  r = await call(u, 'GET', '/api/images?sort=state&limit=1');
  t.equal(r.body.items[0].state, 'error', 'state sort puts what needs attention first');
  r = await call(u, 'GET', '/api/images?sort=updatedAt&order=asc&limit=1');
  t.equal(r.body.items[0].ref, refs[N - 1]);

  // Stats: counts per state match the records.
  const stats = await call(u, 'GET', '/api/stats');
  t.equal(stats.body.total, N);
  t.same(stats.body.counts, await app.ctx.store.counts());
  t.match(stats.body.queue, { waiting: Number, active: Number, delayed: Number, failed: Number });
  t.match(stats.body.throughput, { windowSeconds: 60, bytesPerSecond: Number, series: Array });

  // A live change shows up at the top without a reload of the index; SSE relays it.
  const sse = await SseClient.open(`${u}/api/events`);
  t.teardown(() => sse.close());
  t.equal(sse.status, 200);
  t.match(sse.headers?.get('content-type'), /text\/event-stream/);
  await sse.wait((f) => f.event === 'hello', 'hello');
  const changed = refs[5000]!;
  await app.ctx.store.update(changed, { state: 'copying', bytesDone: 0, bytesTotal: 1000 });
  const rec = await sse.state(changed, 'copying');
  t.equal(rec.bytesTotal, 1000);
  r = await call(u, 'GET', '/api/images?limit=1');
  t.equal(r.body.items[0].ref, changed, 'the changed record leads the list');
  t.equal(r.body.items[0].state, 'copying');
  await app.ctx.store.progress(changed, 400, 1000);
  const prog = await sse.wait((f) => f.event === 'progress' && JSON.parse(f.data).ref === changed, 'progress');
  t.match(JSON.parse(prog.data), { bytesDone: 400, bytesTotal: 1000 });
  t.equal((await call(u, 'GET', '/api/images?limit=1')).body.items[0].bytesDone, 400, 'progress kept in the index');
  await app.ctx.store.remove(refs[1]!);
  await sse.wait((f) => f.event === 'removed' && JSON.parse(f.data).ref === refs[1], 'removed');
  t.equal((await call(u, 'GET', '/api/images?limit=1')).body.total, N - 1);
  // a stats push from before the removal may already be in the stream: wait for one that counts it
  const statsFrame = await sse.wait((f) => f.event === 'stats' && JSON.parse(f.data).total === N - 1, 'stats push after the removal');
  t.match(JSON.parse(statsFrame.data), { total: N - 1, counts: { copying: 1 } });
});

t.test('SSE: heartbeat comments; one Redis subscriber for all clients; streams end on close', async (t) => {
  const app = await startDashboardApp({ redisUrl: redis.url, prefix: 'sse', dashboard: { heartbeatMs: 100 } });
  const clients = await Promise.all([1, 2, 3].map(() => SseClient.open(`${app.url}/api/events`)));
  await Promise.all(clients.map((c) => c.wait((f) => f.event === 'comment' && /heartbeat/.test(f.comment ?? ''), 'heartbeat')));
  const subs = (await app.ctx.connection.call('PUBSUB', 'NUMSUB', app.ctx.store.k.events)) as [string, number];
  t.equal(Number(subs[1]), 1, 'one subscriber, however many SSE clients');
  await app.ctx.store.update('docker.io/library/x:1', { state: 'queued', mirrorRef: 'm' }, { upsert: true });
  await Promise.all(clients.map((c) => c.state('docker.io/library/x:1', 'queued')));
  t.equal(app.dashboard.live.clientCount, 3);
  const closing = app.close();
  await closing;
  await Promise.all(clients.map((c) => c.close()));
  t.pass('closed with SSE clients attached');
});

t.test('page, assets and bull-board are served', async (t) => {
  const app = await startDashboardApp({ redisUrl: redis.url, prefix: 'page' });
  t.teardown(() => app.close());
  let res = await fetch(`${app.url}/`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/html/);
  t.match(res.headers.get('content-security-policy'), /default-src 'self'/);
  const html = await res.text();
  t.match(html, /<script type="module" src="\/assets\/app\.js">/);
  t.match(html, /href="\/queues\/"/);
  res = await fetch(`${app.url}/assets/app.js`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /javascript/);
  await res.arrayBuffer();
  res = await fetch(`${app.url}/assets/app.css`);
  t.equal(res.status, 200);
  await res.arrayBuffer();
  res = await fetch(`${app.url}/queues/`);
  t.equal(res.status, 200);
  t.match(await res.text(), /<html/i);
  res = await fetch(`${app.url}/queues/api/queues?activeQueue=mirror&status=latest&page=1`);
  t.equal(res.status, 200);
  const board = (await res.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
  t.match(board.queues, [{ name: 'mirror', readOnlyMode: true }]);
  res = await fetch(`${app.url}/queues/api/queues/mirror/pause`, { method: 'PUT' });
  t.equal(res.status, 405, 'bull-board refuses actions (read-only)');
  await res.arrayBuffer();
  t.ok(app.ctx.readiness.checks.has('dashboard'));
  t.match(await app.ctx.readiness.checks.get('dashboard')!(), { ok: true });
});

function buildRedis(url: string) {
  // A separate connection for seeding, as a worker process would have.
  const r = connectRedis(url);
  r.on('error', () => {});
  return r;
}

t.test('Redis outage: the list is served from memory, changes get 503, it recovers by itself', async (t) => {
  const own = await startRedis();
  t.teardown(() => own.stop());
  const app = await startDashboardApp({ redisUrl: own.url, prefix: 'out' });
  t.teardown(() => app.close());
  const sse = await SseClient.open(`${app.url}/api/events`);
  t.teardown(() => sse.close());
  await sse.wait((f) => f.event === 'hello', 'hello');
  await app.ctx.store.update('docker.io/library/a:1', { state: 'mirrored', mirrorRef: 'm/a:1' }, { upsert: true });
  await sse.state('docker.io/library/a:1', 'mirrored');
  await own.kill();
  await waitUntil(() => app.ctx.connection.status !== 'ready');
  let r = await call(app.url, 'GET', '/api/images');
  t.equal(r.status, 200, 'list from memory');
  t.equal(r.body.total, 1);
  r = await call(app.url, 'GET', `/api/images/${enc('docker.io/library/a:1')}`);
  t.equal(r.status, 200, 'record from memory');
  t.equal(r.body.state, 'mirrored');
  r = await call(app.url, 'POST', '/api/images', { body: { ref: 'b:1' } });
  t.equal(r.status, 503, 'changes refused at once instead of hanging');
  t.equal(r.body.code, 'FERRY_ERR_DASHBOARD_UNAVAILABLE');
  r = await call(app.url, 'GET', '/api/stats');
  t.equal(r.status, 200);
  t.equal(r.body.queue, null);
  t.match(r.body.queueError, /did not answer/);
  t.match(await app.ctx.readiness.checks.get('dashboard')!(), { ok: false });
  await own.start();
  // the events subscriber and the command connection reconnect on their own schedules
  await waitUntil(() => app.dashboard.live.ready && app.ctx.connection.status === 'ready');
  r = await call(app.url, 'POST', '/api/images', { body: { ref: 'b:1' } });
  t.equal(r.status, 202, 'back to normal');
  await sse.state('docker.io/library/b:1', 'queued');
});

t.test('start without Redis: the role does not block the process, and says so', async (t) => {
  const app = await startDashboardApp({ redisUrl: 'redis://127.0.0.1:1', prefix: 'none', dashboard: { startWaitMs: 100 } });
  t.teardown(() => app.close());
  t.ok(app.ctx.logs.some((l) => /Redis is not answering yet/.test(l)));
  t.match(await app.ctx.readiness.checks.get('dashboard')!(), { ok: false });
  t.equal((await fetch(`${app.url}/`)).status, 200, 'the page is served');
});

t.test('the static folder is found from src/ (tsx) and from dist/ (tsc output)', async (t) => {
  const { resolveStaticDir } = await import('../../src/dashboard/static-dir.js');
  const root = new URL('../../', import.meta.url).pathname;
  t.equal(resolveStaticDir(join(root, 'src', 'dashboard')), join(root, 'src', 'dashboard', 'static'));
  t.equal(resolveStaticDir(join(root, 'dist', 'dashboard')), join(root, 'src', 'dashboard', 'static'));
  t.throws(() => resolveStaticDir('/'), /static files not found/);
});

async function waitUntil(pred: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

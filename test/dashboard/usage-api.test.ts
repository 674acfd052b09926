/**
 * "Who runs what" and GC in the JSON API, against a real Redis: `usedBy` on
 * every record the API returns (joined for the page's refs only), the
 * `cluster` view it rests on, `GET /api/images/:ref/pods` (references of any
 * length), `GET /api/gc`, and what a Redis outage does to each.
 */
import t from 'tap';
import { InUseStore } from '../../src/in-use/index.js';
import type { ImageRecord } from '../../src/queue/index.js';
import { startRedis } from '../support/redis.js';
import { startDashboardApp, type Running } from './support/context.js';
import { call, enc } from './support/http.js';
import { digest, sampleGcReport, seedPod, syncTracker, writeGcReport } from './support/in-use.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

const TOKEN = 'usage-token';
const NGINX = 'docker.io/library/nginx:1.27';
const REDIS = 'docker.io/library/redis:7';
const NEVER = 'docker.io/library/busybox:1.36';
const LONG = `registry.internal.example.com:5000/platform/${'very-long-team-name/'.repeat(4)}service:v1.2.3-build.${'0123456789'.repeat(3)}@sha256:${'ab'.repeat(32)}`;

async function start(prefix: string, o: { redisUrl?: string } = {}): Promise<Running> {
  const app = await startDashboardApp({
    redisUrl: o.redisUrl ?? redis.url,
    prefix,
    configure: (c) => {
      c.dashboard.token = TOKEN;
      c.mirror.registry = 'mirror.local:5000';
    },
    dashboard: { clusterViewCacheMs: 0 },
  });
  t.teardown(() => app.close());
  return app;
}

/** Records as a worker writes them; the dashboard's index is reloaded so the list has them. */
async function putRecords(app: Running, refs: string[], patch: Partial<ImageRecord> = {}): Promise<void> {
  for (const ref of refs) {
    await app.ctx.store.update(ref, { state: 'mirrored', mirrorRef: app.ctx.mirrorRefOf(ref), attempts: 1, maxAttempts: 3, digest: digest('1'), ...patch }, { upsert: true });
  }
  await app.dashboard.live.reload();
}

const inUse = (app: Running, clock?: () => number) => new InUseStore(app.ctx.redis('test-in-use'), app.ctx.config().queue.prefix, clock);

t.test('no cluster view: usedBy is null on every record, and the list says why once', async (t) => {
  const app = await start('u-none');
  await putRecords(app, [NGINX, REDIS]);
  let r = await call(app.url, 'GET', '/api/images');
  t.equal(r.status, 200);
  t.same(r.body.cluster, { status: 'none', syncedAt: null });
  t.equal(r.body.items.length, 2);
  t.ok(r.body.items.every((i: { usedBy: unknown }) => i.usedBy === null), 'usedBy: null, not "unused"');
  r = await call(app.url, 'GET', `/api/images/${enc('nginx:1.27')}`);
  t.match(r, { status: 200, body: { ref: NGINX, usedBy: null } });
  r = await call(app.url, 'GET', `/api/images/${enc(NGINX)}/pods`);
  t.same(r.body, [], 'a known image: no pods (ferry sees none)');
  t.equal(r.headers.get('x-total-count'), '0');
  r = await call(app.url, 'GET', '/api/gc');
  t.same(r.body, { report: null, gc: { enabled: false, dryRun: true, schedule: '0 3 * * *', unusedFor: '720h', keepUnusedFor: '168h' } }, 'no report yet: 200 with report null');
});

t.test('with a pod watch: usedBy on list, single and changed records, for the page only', async (t) => {
  const app = await start('u-live');
  await putRecords(app, [NGINX, REDIS, NEVER]);
  let clock = Date.now() - 3_600_000;
  const store = inUse(app, () => clock);
  await seedPod(store, 'shop', 'web-1', [{ ref: NGINX, digest: digest('1') }, { ref: REDIS, container: 'cache' }]);
  await seedPod(store, 'shop', 'web-2', [{ ref: NGINX, digest: digest('1') }]);
  await seedPod(store, 'blog', 'front-1', [{ ref: NGINX, digest: digest('2'), node: null }]);
  await store.removePod('shop', 'web-1'); // the last pod running redis goes, an hour ago
  const redisGone = new Date(clock).toISOString();
  await seedPod(store, 'shop', 'web-1', [{ ref: NGINX, digest: digest('1') }]);
  clock = Date.now();
  await syncTracker(store);

  // Only the page's refs are looked up, in one call.
  const asked: string[][] = [];
  const usedBy = InUseStore.prototype.usedBy;
  InUseStore.prototype.usedBy = function (refs) {
    asked.push([...refs]);
    return usedBy.call(this, refs);
  };
  t.teardown(() => void (InUseStore.prototype.usedBy = usedBy));

  let r = await call(app.url, 'GET', '/api/images?sort=ref&limit=2');
  t.equal(r.status, 200);
  t.equal(r.body.cluster.status, 'live');
  t.type(r.body.cluster.syncedAt, 'string');
  t.same(asked, [[NEVER, NGINX]], 'one usedBy lookup, for the 2 refs of the page');
  const byRef = Object.fromEntries(r.body.items.map((i: { ref: string; usedBy: unknown }) => [i.ref, i.usedBy]));
  t.match(byRef[NGINX], { pods: 3, namespaces: ['blog', 'shop'], lastSeenAt: String });
  t.same(byRef[NEVER], { pods: 0, namespaces: [], lastSeenAt: null }, 'never seen while watched');

  r = await call(app.url, 'GET', `/api/images/${enc('redis:7')}`);
  t.same(r.body.usedBy, { pods: 0, namespaces: [], lastSeenAt: redisGone }, 'unused, with when it last ran');
  r = await call(app.url, 'GET', `/api/images?q=${enc('redis')}`);
  t.equal(r.body.items[0].usedBy.lastSeenAt, redisGone, 'the list says the same');

  // A change answers with usedBy too: a blocked image pods still run.
  r = await call(app.url, 'POST', `/api/images/${enc(NGINX)}/block`, { body: { reason: 'CVE-2099-1' }, token: TOKEN });
  t.match(r, { status: 200, body: { state: 'blocked', usedBy: { pods: 3 } } });
  r = await call(app.url, 'POST', `/api/images/${enc(NGINX)}/unblock`, { body: {}, token: TOKEN });
  t.match(r, { status: 202, body: { state: 'queued', usedBy: { pods: 3 } } });
  t.notOk('usedBy' in (await app.ctx.store.get(NGINX))!, 'usedBy is joined, never stored in the record');
});

t.test('GET /api/images/:ref/pods: one row per container, any reference length, bounded', async (t) => {
  const app = await start('u-pods');
  t.ok(LONG.length > 200, `a ${LONG.length}-character reference`);
  await putRecords(app, [NGINX, LONG]);
  const store = inUse(app);
  await seedPod(store, 'shop', 'web-1', [{ ref: NGINX, digest: digest('1') }, { ref: NGINX, container: 'sidecar', digest: digest('1') }]);
  await seedPod(store, 'blog', 'front-1', [{ ref: NGINX, node: null }]);
  await seedPod(store, 'batch', 'job-7', [{ ref: LONG, digest: digest('9'), node: 'node-2' }]);
  await seedPod(store, 'legacy', 'old-1', [{ ref: 'quay.io/acme/unrecorded:1' }]);
  await syncTracker(store);

  let r = await call(app.url, 'GET', `/api/images/${enc('nginx:1.27')}/pods`);
  t.equal(r.status, 200);
  t.equal(r.headers.get('x-total-count'), '3');
  t.match(r.body, [
    { namespace: 'blog', pod: 'front-1', container: 'app', node: null, digest: null },
    { namespace: 'shop', pod: 'web-1', container: 'app', node: 'node-1', digest: digest('1') },
    { namespace: 'shop', pod: 'web-1', container: 'sidecar', node: 'node-1', digest: digest('1') },
  ]);
  for (const k of ['namespace', 'pod', 'container', 'node', 'digest']) t.ok(k in r.body[0], `a row has ${k}`);

  r = await call(app.url, 'GET', `/api/images/${enc(LONG)}/pods`);
  t.match(r, { status: 200, body: [{ namespace: 'batch', pod: 'job-7', node: 'node-2', digest: digest('9') }] }, 'a reference over 200 characters');

  r = await call(app.url, 'GET', `/api/images/${enc(NGINX)}/pods?limit=1`);
  t.equal(r.body.length, 1);
  t.equal(r.headers.get('x-total-count'), '3', 'the total is in x-total-count');
  for (const bad of ['0', '10001', 'two']) {
    r = await call(app.url, 'GET', `/api/images/${enc(NGINX)}/pods?limit=${bad}`);
    t.match(r, { status: 400, body: { code: 'FERRY_ERR_DASHBOARD_BAD_REQUEST', message: /limit/, hint: String } }, `?limit=${bad}`);
  }

  r = await call(app.url, 'GET', `/api/images/${enc('quay.io/acme/unrecorded:1')}/pods`);
  t.match(r, { status: 200, body: [{ namespace: 'legacy', pod: 'old-1' }] }, 'pods of an image ferry keeps no record of');
  r = await call(app.url, 'GET', `/api/images/${enc('nobody-runs-this:1')}/pods`);
  t.match(r, { status: 404, body: { code: 'FERRY_ERR_DASHBOARD_NOT_FOUND', message: /docker\.io\/library\/nobody-runs-this:1/, hint: String } });
  r = await call(app.url, 'GET', `/api/images/${enc('Docker.io/UPPER/x')}/pods`);
  t.match(r, { status: 400, body: { code: /^FERRY_ERR_REFERENCE_/, hint: String } }, 'an invalid reference');
  r = await call(app.url, 'GET', '/api/images/docker.io/library/nginx:1.27/pods');
  t.match(r, { status: 400, body: { code: 'FERRY_ERR_DASHBOARD_REF_NOT_ENCODED' } }, 'slashes must be encoded');
});

t.test('a pod watch that stopped: the last figures stay, flagged stale', async (t) => {
  const app = await start('u-stale');
  await putRecords(app, [NGINX]);
  const store = inUse(app);
  await seedPod(store, 'shop', 'web-1', [{ ref: NGINX }]);
  await syncTracker(store);
  t.equal((await call(app.url, 'GET', '/api/images')).body.cluster.status, 'live');
  await store.endHeartbeat();
  const r = await call(app.url, 'GET', '/api/images');
  t.match(r.body.cluster, { status: 'stale', syncedAt: String });
  t.match(r.body.items[0].usedBy, { pods: 1, namespaces: ['shop'] });
});

t.test('GET /api/gc: the last report as the GC run wrote it; a broken one is a 500 that says where', async (t) => {
  const app = await start('u-gc');
  const report = sampleGcReport();
  await writeGcReport(app.ctx.connection, 'u-gc', report);
  let r = await call(app.url, 'GET', '/api/gc');
  t.equal(r.status, 200);
  t.same(r.body.report, report);
  t.match(r.body.gc, { enabled: false, dryRun: true });
  await writeGcReport(app.ctx.connection, 'u-gc', '{"startedAt": ');
  r = await call(app.url, 'GET', '/api/gc');
  t.match(r, { status: 500, body: { code: 'FERRY_ERR_DASHBOARD_INTERNAL', message: /u-gc:gc:last is not valid JSON/, hint: String } });
});

t.test('Redis away: the list still answers (usedBy null, cluster unknown); pods and GC are 503', async (t) => {
  const own = await startRedis();
  t.teardown(() => own.stop());
  const app = await start('u-out', { redisUrl: own.url });
  await putRecords(app, [NGINX]);
  const store = inUse(app);
  await seedPod(store, 'shop', 'web-1', [{ ref: NGINX }]);
  await syncTracker(store);
  t.match((await call(app.url, 'GET', '/api/images')).body.items[0].usedBy, { pods: 1 });
  await own.kill();
  const end = Date.now() + 15_000;
  while (app.ctx.connection.status === 'ready' && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  let r = await call(app.url, 'GET', '/api/images');
  t.match(r, { status: 200, body: { total: 1, cluster: { status: 'unknown' }, items: [{ ref: NGINX, usedBy: null }] } });
  r = await call(app.url, 'GET', `/api/images/${enc(NGINX)}`);
  t.match(r, { status: 200, body: { ref: NGINX, usedBy: null } }, 'a record from memory');
  r = await call(app.url, 'GET', `/api/images/${enc(NGINX)}/pods`);
  t.match(r, { status: 503, body: { code: 'FERRY_ERR_DASHBOARD_UNAVAILABLE' } });
  r = await call(app.url, 'GET', '/api/gc');
  t.match(r, { status: 503, body: { code: 'FERRY_ERR_DASHBOARD_UNAVAILABLE' } });
});

/**
 * Push instead of poll: the upstream docker-registry notifies
 * POST /hooks/registry, which polls the matching watch at once (the schedule
 * is yearly). Malformed envelopes are 400s, never crashes.
 */
import t from 'tap';
import { EVENTS_MEDIA_TYPE, parseEnvelope, resolveWatch, watchesForEvent, type PollReport } from '../../src/watch/index.js';
import { inspectRaw } from '../support/images.js';
import { freePort } from '../support/process.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import * as hookMetrics from '../../src/watch/metrics.js';
import { cleanupLayouts, harness, nextEvent, push } from './support/env.js';
import { send } from '../support/raw-http.js';

t.test('envelope parsing and matching (pure)', async (t) => {
  const ev = { action: 'push', target: { repository: 'demo/app', tag: 'v1', digest: 'sha256:x', mediaType: 'application/vnd.oci.image.manifest.v1+json' }, request: { host: 'reg.example:5000' } };
  t.same(parseEnvelope({ events: [ev] }), [{ action: 'push', repository: 'demo/app', tag: 'v1', digest: 'sha256:x', mediaType: 'application/vnd.oci.image.manifest.v1+json', host: 'reg.example:5000' }]);
  for (const bad of [null, 'x', [], {}, { events: 'no' }, { events: [{}] }, { events: [{ action: 'push' }] }, { events: [{ action: 'push', target: { repository: 7 } }] }]) {
    t.throws(() => parseEnvelope(bad), { code: 'FERRY_ERR_WATCH_HOOK_INVALID' }, JSON.stringify(bad));
  }
  const semver = resolveWatch({ id: 's', image: 'reg.example:5000/demo/app', strategy: 'semver', constraint: '*', schedule: '0 0 1 1 *' }, 'config');
  const digest = resolveWatch({ id: 'd', image: 'reg.example:5000/demo/app:stable', strategy: 'digest', schedule: '0 0 1 1 *' }, 'config');
  const hub = resolveWatch({ id: 'h', image: 'nginx', strategy: 'digest', schedule: '0 0 1 1 *' }, 'config');
  const viaEndpoint = resolveWatch({ id: 'e', image: 'internal.example/demo/app', strategy: 'semver', constraint: '*', schedule: '0 0 1 1 *' }, 'config');
  const all = [semver, digest, hub, viaEndpoint];
  const regs = { 'internal.example': { endpoint: 'http://reg.example:5000' } };
  const ids = (e: Parameters<typeof watchesForEvent>[0]) => watchesForEvent(e, all, regs).map((w) => w.id);
  t.same(ids({ action: 'push', repository: 'demo/app', tag: 'v1', host: 'reg.example:5000' }), ['s', 'e'], 'by path and host (or configured endpoint host)');
  t.same(ids({ action: 'push', repository: 'demo/app', tag: 'stable', host: 'REG.example:5000' }), ['s', 'd', 'e'], 'a digest watch only for its tag; hosts compared case-insensitively');
  t.same(ids({ action: 'push', repository: 'demo/app', tag: 'v1', host: 'other:5000' }), [], 'another host');
  t.same(ids({ action: 'push', repository: 'demo/other', tag: 'v1', host: 'reg.example:5000' }), [], 'another repository');
  t.same(ids({ action: 'push', repository: 'demo/app', host: 'reg.example:5000' }), [], 'blob / untagged pushes');
  t.same(ids({ action: 'pull', repository: 'demo/app', tag: 'v1' }), [], 'pulls');
  t.same(ids({ action: 'push', repository: 'library/nginx', tag: 'latest', host: 'registry-1.docker.io' }), ['h'], 'Docker Hub aliases');
});

t.test('a push notification polls the watch without waiting for the schedule', async (t) => {
  const redis = await startRedis();
  const port = await freePort();
  const upstream = await startRegistry({ notifyUrl: `http://127.0.0.1:${port}/hooks/registry` });
  const mirror = await startRegistry();
  t.teardown(async () => {
    await Promise.all([redis.stop(), upstream.stop(), mirror.stop()]);
    cleanupLayouts();
  });
  const repo = 'demo/pushed';
  const h = await harness({
    redisUrl: redis.url,
    mirror,
    prefix: 'hooks',
    port,
    watch: [{ id: 'pushed', image: `${upstream.host}/${repo}`, strategy: 'semver', constraint: '>=1', schedule: '0 0 1 1 *' }],
  });
  t.teardown(() => h.close());
  const polled = (tag: string) => nextEvent<PollReport>(h.watcher, 'polled', (r) => r.id === 'pushed' && r.selected?.tag === tag);

  // Nothing upstream yet: the first poll (at start) finds no repository.
  const first = nextEvent<PollReport>(h.watcher, 'polled', (r) => r.id === 'pushed');
  await h.watcher.start();
  t.match(await first, { trigger: 'start', result: 'error', error: { code: 'FERRY_ERR_REGISTRY_NAME_UNKNOWN' } });

  let seen = polled('1.0.0');
  const v1 = await push(upstream, repo, '1.0.0');
  const r1 = await seen;
  t.match(r1, { result: 'initial', selected: { digest: v1.image.digest } });
  t.ok(['hook', 'deferred'].includes(r1.trigger), `triggered by the notification (${r1.trigger})`);
  await h.mirrored(v1.ref, v1.image.digest);

  seen = polled('1.1.0');
  const v2 = await push(upstream, repo, '1.1.0');
  const report = await seen;
  t.match(report, { result: 'new-tag', change: { oldDigest: v1.image.digest, newDigest: v2.image.digest } });
  t.ok(['hook', 'deferred'].includes(report.trigger), `triggered by the notification (${report.trigger})`);
  await h.mirrored(v2.ref, v2.image.digest);
  t.equal((await inspectRaw(h.mirrorRefOf(v2.ref)))?.digest, v2.image.digest, 'the mirror got the pushed tag');
  const view = await h.watcher.get('pushed');
  t.ok(Date.parse(view.nextPollAt!) > Date.now() + 24 * 3600_000, 'the schedule is far away');

  // Malformed or unknown envelopes: 400, logged, the watcher keeps working.
  const post = (body: string, headers: Record<string, string> = { 'content-type': EVENTS_MEDIA_TYPE }) =>
    fetch(`${h.url}/hooks/registry`, { method: 'POST', body, headers }).then(async (r) => ({ status: r.status, body: await r.json() }));
  t.match(await post('not json'), { status: 400, body: { code: 'FERRY_ERR_WATCH_HOOK_INVALID' } });
  t.match(await post('{}'), { status: 400, body: { code: 'FERRY_ERR_WATCH_HOOK_INVALID' } });
  t.match(await post('{"events":[{"action":"push"}]}'), { status: 400 });
  t.match(await post('[1,2]', { 'content-type': 'application/json' }), { status: 400 });
  t.match(await post('{"events":[]}'), { status: 202, body: { events: 0, polls: [] } });
  const unwatched = JSON.stringify({ events: [{ action: 'push', target: { repository: 'demo/unwatched', tag: 'x' }, request: { host: upstream.host } }] });
  t.match(await post(unwatched, { 'content-type': 'application/json' }), { status: 202, body: { events: 1, polls: [] } }, 'plain application/json is an envelope too');
  // text/plain and forms are what a web page can POST cross-site without a preflight: never an envelope.
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    t.match(await post(unwatched, { 'content-type': type }), { status: 415, body: { code: 'FERRY_ERR_ACCESS_UNSUPPORTED_MEDIA_TYPE', hint: /notification envelope/ } }, type);
  }

  // With dashboard.token set the hook needs it (configure the registry endpoint's `headers: {Authorization: [Bearer ...]}`).
  await h.setConfig({ ...h.config, dashboard: { ...h.config.dashboard, token: 's3cret' } });
  const envelope = JSON.stringify({ events: [{ action: 'push', target: { repository: repo, tag: '1.1.0' }, request: { host: upstream.host } }] });
  t.match(await post(envelope), { status: 401 });
  const again = nextEvent<PollReport>(h.watcher, 'polled', (r) => r.id === 'pushed');
  t.match(await post(envelope, { 'content-type': EVENTS_MEDIA_TYPE, authorization: 'Bearer s3cret' }), { status: 202, body: { polls: ['pushed'] } });
  t.match(await again, { result: 'unchanged' });
});

t.test('hooks.secret: docker-registry sends it from its endpoint `headers:`; only that secret opens the hook', async (t) => {
  const SECRET = 'hook-secret-for-the-registry';
  const TOKEN = 'dashboard-token';
  const redis = await startRedis();
  const port = await freePort();
  // What the 401 hint tells the operator to configure, in a real docker-registry.
  const upstream = await startRegistry({ notifyUrl: `http://127.0.0.1:${port}/hooks/registry`, notifyHeaders: { Authorization: [`Bearer ${SECRET}`] } });
  const mirror = await startRegistry();
  t.teardown(async () => {
    await Promise.all([redis.stop(), upstream.stop(), mirror.stop()]);
    cleanupLayouts();
  });
  const repo = 'demo/signed';
  const h = await harness({
    redisUrl: redis.url,
    mirror,
    prefix: 'hooksecret',
    port,
    token: TOKEN,
    hooksSecret: SECRET,
    workers: false,
    watch: [{ id: 'signed', image: `${upstream.host}/${repo}`, strategy: 'semver', constraint: '>=1', schedule: '0 0 1 1 *' }],
  });
  t.teardown(() => h.close());
  const first = nextEvent<PollReport>(h.watcher, 'polled', (r) => r.id === 'signed');
  await h.watcher.start();
  await first;

  const pushed = nextEvent<PollReport>(h.watcher, 'polled', (r) => r.id === 'signed' && r.selected?.tag === '1.0.0');
  await push(upstream, repo, '1.0.0');
  const report = await pushed;
  t.ok(['hook', 'deferred'].includes(report.trigger), `the registry's notification (with the secret) got in: ${report.trigger}`);

  const unauthorized = () => (hookMetrics.hooks.get() as unknown as Promise<{ values: { value: number; labels: { outcome?: string } }[] }>).then(
    (m) => m.values.find((v) => v.labels.outcome === 'unauthorized')?.value ?? 0,
  );
  const refusedBefore = await unauthorized();
  const envelope = JSON.stringify({ events: [] });
  const hook = (headers: Record<string, string>) => send(h.url, 'POST', '/hooks/registry', { headers: { 'content-type': EVENTS_MEDIA_TYPE, ...headers }, body: envelope });
  let r = await hook({});
  t.equal(r.status, 401, 'no secret');
  t.match(r.body, { code: 'FERRY_ERR_HOOKS_UNAUTHORIZED', hint: /hooks\.secret[\s\S]*notifications\.endpoints\[\]\.headers/ });
  t.match(r.headers['www-authenticate'], /Bearer/);
  t.equal((await hook({ authorization: 'Bearer wrong' })).status, 401, 'a wrong secret');
  t.equal((await hook({ authorization: `Bearer ${TOKEN}` })).status, 401, 'dashboard.token is not the hook secret');
  t.equal((await hook({ authorization: `Bearer ${SECRET}x` })).status, 401, 'a longer secret');
  t.equal(await unauthorized(), refusedBefore + 4, 'refusals are counted (ferry_watch_hook_requests_total{outcome="unauthorized"})');
  // The secret is the whole check: a registry in the cluster calls from anywhere, under any Host name.
  r = await hook({ authorization: `Bearer ${SECRET}`, host: 'ferry.ferry-system.svc:8080' });
  t.match(r, { status: 202, body: { events: 0, polls: [] } });
  // ... and it opens the hook only: the watch API still takes dashboard.token.
  r = await send(h.url, 'POST', '/api/watches/signed/poll', { headers: { authorization: `Bearer ${SECRET}` } });
  t.match(r, { status: 401, body: { code: 'FERRY_ERR_DASHBOARD_UNAUTHORIZED' } });
});

/**
 * Route hardening of the dashboard API over real HTTP: JSON-only bodies
 * (text/plain and forms are what a web page can POST cross-site without a
 * preflight), empty JSON bodies on actions, per-route error hints, references
 * far longer than fastify's default 100-character URL parameter.
 */
import t from 'tap';
import { startRedis } from '../support/redis.js';
import { startDashboardApp } from './support/context.js';
import { call, enc } from './support/http.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

const TOKEN = 'hardening-token';

/** A request with exactly this content-type and body text (fetch's `call` always sends JSON). */
async function raw(base: string, method: string, path: string, contentType: string | undefined, body: string, token?: string) {
  const headers: Record<string, string> = {};
  if (contentType) headers['content-type'] = contentType;
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

t.test('bodies: JSON only (415 otherwise), empty JSON bodies on actions, hints name what each route takes', async (t) => {
  const app = await startDashboardApp({ redisUrl: redis.url, prefix: 'hard', configure: (c) => (c.dashboard.token = TOKEN) });
  t.teardown(() => app.close());
  const u = app.url;
  const ref = 'docker.io/library/nginx:1.27';
  const p = `/api/images/${enc(ref)}`;
  t.equal((await call(u, 'POST', '/api/images', { body: { ref }, token: TOKEN })).status, 202);
  const jobs = async () => (await app.ctx.queue.getJobCounts('waiting')).waiting;
  t.equal(await jobs(), 1);

  // text/plain, forms, multipart: 415 with the access code and what the route takes, and nothing changes.
  const refused = [
    ['POST', `${p}/retry`, 'text/plain', 'retry please', /POST \/api\/images\/:ref\/retry takes no body/],
    ['POST', '/api/images', 'text/plain', JSON.stringify({ ref: 'redis:7' }), /POST \/api\/images takes JSON \{"ref"/],
    ['POST', `${p}/block`, 'application/x-www-form-urlencoded', 'reason=evil', /block takes JSON \{"reason"/],
    ['POST', `${p}/unblock`, 'multipart/form-data; boundary=x', '--x--', /unblock takes no body .*"requeue": false/],
    ['DELETE', p, 'text/plain', '', /DELETE \/api\/images\/:ref takes no body/],
  ] as const;
  for (const [method, path, type, body, hint] of refused) {
    const r = await raw(u, method, path, type, body, TOKEN);
    t.match(r, { status: 415, body: { code: 'FERRY_ERR_ACCESS_UNSUPPORTED_MEDIA_TYPE', hint } }, `${method} ${path} as ${type}`);
  }
  t.match((await call(u, 'GET', p)).body, { state: 'queued' }, 'the record is as it was');
  t.equal((await call(u, 'GET', `/api/images/${enc('redis:7')}`)).status, 404, 'nothing was added');

  // Malformed JSON: 400, and the hint is about THIS route, not {"ref": ...} everywhere.
  const malformed = [
    [`${p}/block`, /block takes JSON \{"reason"/],
    [`${p}/unblock`, /unblock takes no body/],
    [`${p}/retry`, /retry takes no body/],
    ['/api/images', /POST \/api\/images takes JSON \{"ref"/],
  ] as const;
  for (const [path, hint] of malformed) {
    const r = await raw(u, 'POST', path, 'application/json', '{"reason":', TOKEN);
    t.match(r, { status: 400, body: { code: 'FERRY_ERR_DASHBOARD_BAD_REQUEST', hint } }, `malformed JSON to ${path}`);
  }

  // Empty bodies sent as JSON (curl -X POST -H 'content-type: application/json' ...): fine for actions.
  await app.ctx.store.update(ref, { state: 'error', lastError: 'boom', attempts: 3 });
  await app.ctx.producer.removePendingJob(ref);
  let r = await raw(u, 'POST', `${p}/retry`, 'application/json', '', TOKEN);
  t.match(r, { status: 202, body: { state: 'queued', lastError: null } }, 'retry with an empty JSON body');
  t.equal(await jobs(), 1, 're-queued');
  r = await raw(u, 'POST', `${p}/block`, 'application/json', '', TOKEN);
  t.match(r, { status: 400, body: { code: 'FERRY_ERR_DASHBOARD_BAD_REQUEST', message: /blocking needs a reason/, hint: /"reason"/ } }, 'block still needs its reason');
  r = await call(u, 'POST', `${p}/block`, { body: { reason: 'CVE-2099-0002' }, token: TOKEN });
  t.equal(r.status, 200);
  r = await raw(u, 'POST', `${p}/unblock`, 'application/json', '', TOKEN);
  t.match(r, { status: 202, body: { state: 'queued', blockedReason: null } }, 'unblock with an empty JSON body');
  r = await raw(u, 'DELETE', p, 'application/json', '', TOKEN);
  t.match(r, { status: 200, body: { ref, removed: true } }, 'delete with an empty JSON body');
});

t.test('no token: a text/plain POST from this machine (what a cross-site simple request looks like) is refused', async (t) => {
  const app = await startDashboardApp({ redisUrl: redis.url, prefix: 'hard-nt' });
  t.teardown(() => app.close());
  const r = await raw(app.url, 'POST', '/api/images', 'text/plain', '{"ref":"redis:7"}');
  t.match(r, { status: 415, body: { code: 'FERRY_ERR_ACCESS_UNSUPPORTED_MEDIA_TYPE' } });
  t.equal((await app.ctx.store.counts()).queued, 0, 'nothing was queued');
  t.equal((await call(app.url, 'POST', '/api/images', { body: { ref: 'redis:7' } })).status, 202, 'the same as JSON is fine');
});

t.test('references longer than 200 characters (digest-pinned, long name and tag) work in every URL', async (t) => {
  const app = await startDashboardApp({
    redisUrl: redis.url,
    prefix: 'hard-long',
    configure: (c) => {
      c.dashboard.token = TOKEN;
      c.mirror.registry = 'mirror.local:5000';
    },
  });
  t.teardown(() => app.close());
  const u = app.url;
  const name = `registry.internal.example.com:5000/platform/${'very-long-team-name/'.repeat(4)}service-with-a-long-name`;
  const ref = `${name}:v1.2.3-build.${'0123456789'.repeat(5)}@sha256:${'ab'.repeat(32)}`;
  t.ok(ref.length > 200 && enc(ref).length > 250, `${ref.length} characters, ${enc(ref).length} URL-encoded`);
  const p = `/api/images/${enc(ref)}`;
  let r = await call(u, 'POST', '/api/images', { body: { ref }, token: TOKEN });
  t.equal(r.status, 202, 'added');
  t.equal(r.body.ref, ref);
  r = await call(u, 'GET', p);
  t.match(r, { status: 200, body: { ref, state: 'queued' } }, 'GET /api/images/:ref');
  r = await call(u, 'POST', `${p}/retry`, { token: TOKEN });
  t.match(r, { status: 202, body: { ref } }, 'retry');
  r = await call(u, 'POST', `${p}/block`, { body: { reason: 'pinned to a bad build' }, token: TOKEN });
  t.match(r, { status: 200, body: { ref, state: 'blocked' } }, 'block');
  r = await call(u, 'POST', `${p}/unblock`, { token: TOKEN });
  t.match(r, { status: 202, body: { ref, state: 'queued' } }, 'unblock');
  r = await call(u, 'DELETE', p, { token: TOKEN });
  t.match(r, { status: 200, body: { ref, removed: true } }, 'DELETE');
  t.equal((await call(u, 'GET', p)).status, 404, 'gone');
});

/**
 * The watch API and the registry hook behind the shared guard (src/access),
 * over real HTTP: without dashboard.token a web page on another site, a
 * DNS-rebound name or a text/plain "simple" POST must not change anything.
 */
import t from 'tap';
import { EVENTS_MEDIA_TYPE, type PollReport, type WatchView } from '../../src/watch/index.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import { cleanupLayouts, harness, nextEvent, push } from './support/env.js';
import { send, sendJson } from '../support/raw-http.js';

const [redis, upstream, mirror] = await Promise.all([startRedis(), startRegistry(), startRegistry()]);
t.teardown(async () => {
  await Promise.all([redis.stop(), upstream.stop(), mirror.stop()]);
  cleanupLayouts();
});
await push(upstream, 'demo/guarded', '1.0.0');

const YEARLY = '0 0 1 1 *';
const EVIL = { origin: 'https://evil.example' };
const REBOUND = { host: 'evil.example:8080' };

t.test('no dashboard.token: the watch API and the hook refuse other sites, rebound names and non-JSON bodies', async (t) => {
  const h = await harness({ redisUrl: redis.url, mirror, prefix: 'guard', workers: false });
  t.teardown(() => h.close());
  await h.watcher.start();
  const own = { origin: h.url }; // the dashboard page itself
  const watch = { image: `${upstream.host}/demo/guarded`, strategy: 'semver', constraint: '*', schedule: YEARLY };
  const exists = async (id: string) => (await send(h.url, 'GET', `/api/watches/${id}`)).status === 200;

  // PUT: the guard answers before anything is stored.
  let r = await sendJson(h.url, 'PUT', '/api/watches/w1', watch, EVIL);
  t.match(r, { status: 403, body: { code: 'FERRY_ERR_DASHBOARD_NO_TOKEN_REMOTE', message: /https:\/\/evil\.example is another site/ } }, 'another site');
  r = await sendJson(h.url, 'PUT', '/api/watches/w1', watch, REBOUND);
  t.match(r, { status: 403, body: { message: /Host "evil\.example:8080" is not a loopback address/ } }, 'DNS rebinding');
  r = await sendJson(h.url, 'PUT', '/api/watches/w1', watch, { origin: 'null' });
  t.equal(r.status, 403, 'a sandboxed or file page');
  // A cross-site form or text/plain POST needs no CORS preflight: never accepted as a body.
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    r = await send(h.url, 'PUT', '/api/watches/w1', { headers: { 'content-type': type }, body: JSON.stringify(watch) });
    t.match(r, { status: 415, body: { code: 'FERRY_ERR_ACCESS_UNSUPPORTED_MEDIA_TYPE', hint: /PUT \/api\/watches\/:id takes JSON/ } }, type);
  }
  r = await send(h.url, 'PUT', '/api/watches/w1', { headers: { 'content-type': 'application/json' }, body: '{"image":' });
  t.match(r, { status: 400, body: { code: 'FERRY_ERR_WATCH_INVALID', hint: /PUT \/api\/watches\/:id takes JSON/ } }, 'malformed JSON: the hint says what PUT takes');
  t.notOk(await exists('w1'), 'nothing was stored');

  const created = nextEvent<PollReport>(h.watcher, 'polled', (p) => p.id === 'w1');
  r = await sendJson(h.url, 'PUT', '/api/watches/w1', watch, own);
  t.equal(r.status, 201, 'the dashboard page itself may create it');
  await created;

  // poll: refused callers do not poll.
  const polls = async () => (await send(h.url, 'GET', '/api/watches/w1')).body as WatchView;
  const before = (await polls()).polls;
  t.equal(before, 1, 'polled once, when it was created');
  t.equal((await send(h.url, 'POST', '/api/watches/w1/poll', { headers: EVIL })).status, 403);
  t.equal((await send(h.url, 'POST', '/api/watches/w1/poll', { headers: REBOUND })).status, 403);
  t.equal((await send(h.url, 'POST', '/api/watches/w1/poll', { headers: { 'content-type': 'text/plain' }, body: 'poll' })).status, 415);
  t.equal((await polls()).polls, before, 'no poll happened');
  // An empty body sent as JSON is fine for an action (curl -H content-type:application/json -X POST).
  r = await send(h.url, 'POST', '/api/watches/w1/poll', { headers: { 'content-type': 'application/json' }, body: '' });
  t.match(r, { status: 200, body: { id: 'w1', trigger: 'api', result: 'unchanged' } });

  // DELETE
  t.equal((await send(h.url, 'DELETE', '/api/watches/w1', { headers: EVIL })).status, 403);
  t.equal((await send(h.url, 'DELETE', '/api/watches/w1', { headers: REBOUND })).status, 403);
  t.equal((await send(h.url, 'DELETE', '/api/watches/w1', { headers: { 'content-type': 'text/plain' }, body: '' })).status, 415);
  t.ok(await exists('w1'), 'still there');
  t.equal((await send(h.url, 'DELETE', '/api/watches/w1')).status, 204, 'curl on this machine');

  // The hook without hooks.secret: the same guard.
  const envelope = JSON.stringify({ events: [] });
  const hook = (headers: Record<string, string>) => send(h.url, 'POST', '/hooks/registry', { headers: { 'content-type': EVENTS_MEDIA_TYPE, ...headers }, body: envelope });
  t.match(await hook(EVIL), { status: 403, body: { code: 'FERRY_ERR_DASHBOARD_NO_TOKEN_REMOTE' } }, 'hook: another site');
  t.match(await hook(REBOUND), { status: 403 }, 'hook: DNS rebinding');
  t.match(await hook({ 'content-type': 'text/plain' }), { status: 415 }, 'hook: text/plain');
  t.match(await hook({}), { status: 202, body: { events: 0 } }, 'hook: a registry on this machine');
});

t.test('dashboard.token set: the token is what counts, from any page; hooks.secret does not open the API', async (t) => {
  const h = await harness({ redisUrl: redis.url, mirror, prefix: 'guard-token', workers: false, token: 'tok', hooksSecret: 'hook' });
  t.teardown(() => h.close());
  await h.watcher.start();
  const watch = { image: `${upstream.host}/demo/guarded`, strategy: 'semver', constraint: '*', schedule: YEARLY };
  t.match(await sendJson(h.url, 'PUT', '/api/watches/w2', watch), { status: 401, body: { code: 'FERRY_ERR_DASHBOARD_UNAUTHORIZED' } });
  t.match(await sendJson(h.url, 'PUT', '/api/watches/w2', watch, { authorization: 'Bearer hook' }), { status: 401 }, 'the hook secret is not the API token');
  const created = nextEvent<PollReport>(h.watcher, 'polled', (p) => p.id === 'w2');
  t.equal((await sendJson(h.url, 'PUT', '/api/watches/w2', watch, { authorization: 'Bearer tok', ...EVIL })).status, 201);
  await created;
  t.equal((await send(h.url, 'DELETE', '/api/watches/w2', { headers: { authorization: 'Bearer tok' } })).status, 204);
});

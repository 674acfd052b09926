/**
 * What a drift refresh of unchanged tags costs upstream (issue 14: "an
 * unchanged re-sync costs one request"): counted at a request-log proxy in
 * front of a real docker-registry with token auth (the realistic upstream:
 * Docker Hub, GHCR, Quay all hand out Bearer tokens), and a second one in
 * front of the mirror. The token server is in-process and records every
 * token request.
 */
import t from 'tap';
import { runRefresh, type RefreshDeps } from '../../src/refresh/index.js';
import { RegistryEngine } from '../../src/registry/index.js';
import { connectRedis, createQueue, Producer } from '../../src/queue/index.js';
import { cleanupLayouts, gcConfig, layoutDir, logger, scene } from '../gc/support/env.js';
import { startTokenServer } from '../registry/support/tokenserver.js';
import { buildImage, pushImage } from '../support/images.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import { startRequestLogProxy } from '../support/request-log-proxy.js';

const creds = { username: 'alice', password: 's3cret-Pa55' };
const ts = await startTokenServer({ users: { [creds.username]: creds.password }, anonymousPull: false });
const [redis, upstream, mirror] = await Promise.all([
  startRedis(),
  startRegistry({ token: { realm: ts.realm, service: ts.service, issuer: ts.issuer, rootcertbundle: ts.certFile } }),
  startRegistry(),
]);
const [upstreamLog, mirrorLog] = await Promise.all([startRequestLogProxy(upstream.host), startRequestLogProxy(mirror.host)]);
t.teardown(async () => {
  await Promise.all([upstreamLog.close(), mirrorLog.close()]);
  await Promise.all([redis.stop(), upstream.stop(), mirror.stop(), ts.stop()]);
  cleanupLayouts();
});

/** Three tags of one repository and one of another, pushed straight to the upstream (not through the proxy). */
const TAGS = ['demo/app:1', 'demo/app:2', 'demo/app:3', 'demo/other:1'];
const pushed = new Map<string, string>();
for (const name of TAGS) {
  const layout = layoutDir();
  const img = buildImage(layout, { tag: 't', layerSizes: [1024] });
  await pushImage(layout, 't', `${upstream.host}/${name}`, creds);
  pushed.set(`${upstreamLog.host}/${name}`, img.digest);
}

t.test('a refresh of unchanged tags: one manifest HEAD per tag, one token for all repositories and then reused, nothing else', async (t) => {
  const prefix = 'rfcost';
  const config = gcConfig({ mirror: mirrorLog.host, prefix, refresh: { inUseOnly: false } });
  config.registries = { [upstreamLog.host]: { ...creds } };
  const s = scene(redis.url, prefix, mirrorLog.host);
  const queue = createQueue(s.conn, prefix);
  const producer = new Producer({ store: s.store, queue, maxAttempts: () => 2, bufferLimit: 100 });
  const engine = new RegistryEngine({ config, retries: 0 });
  const jobs = connectRedis(redis.url);
  t.teardown(async () => {
    await producer.close();
    await queue.close();
    await engine.close();
    jobs.disconnect();
    s.close();
  });
  for (const [ref, digest] of pushed) await s.record(ref, digest);
  const deps: RefreshDeps = { config: () => config, redis: s.conn, store: s.store, producer, engine, mirrorRefOf: s.mirrorRefOf, logger, now: s.now };

  upstreamLog.reset();
  mirrorLog.reset();
  const tokensBefore = ts.requests.length;
  const first = await runRefresh(deps);
  t.match(first, { targets: TAGS.length, checked: TAGS.length, moved: 0, errors: 0, deferred: 0 });
  // A fresh engine (a process's first run): the /v2/ ping and ONE token for every repository come on top, once.
  t.same(upstreamLog.kinds(), { 'GET /v2/': 1, 'HEAD manifests/<tag>': TAGS.length }, 'first run: the ping, then one HEAD per tag');
  t.same(
    ts.requests.slice(tokensBefore).map((r) => [...r.scopes].sort().join(' ')),
    ['repository:demo/app:pull repository:demo/other:pull'],
    'one token request for both repositories, reused for all their tags',
  );
  t.same(upstreamLog.requests.filter((r) => r.status !== 200).map((r) => `${r.method} ${r.path} ${r.status}`), ['GET /v2/ 401'], 'only the ping is refused (its challenge): the registry took the shared token');

  upstreamLog.reset();
  const tokensAfterFirst = ts.requests.length;
  s.clock.ms += 30 * 60_000; // the next scheduled run (refresh.schedule: every 30 min); tokens live 300 s of real time
  const second = await runRefresh(deps);
  t.match(second, { targets: TAGS.length, checked: TAGS.length, moved: 0, errors: 0 });
  t.same(upstreamLog.kinds(), { 'HEAD manifests/<tag>': TAGS.length }, 'the next run: exactly one manifest HEAD per unchanged tag');
  t.ok(upstreamLog.requests.every((r) => r.status === 200), 'no 401 replay: the cached token was accepted');
  t.equal(ts.requests.length, tokensAfterFirst, 'no token request: the cached tokens are reused');
  t.same(mirrorLog.requests, [], 'the mirror is not asked at all');
  t.equal(await queue.count(), 0, 'nothing is enqueued');
});

t.test('a token server granting less than the shared token asked for: each repository falls back to its own token', async (t) => {
  const prefix = 'rfstingy';
  const config = gcConfig({ mirror: mirrorLog.host, prefix, refresh: { inUseOnly: false } });
  config.registries = { [upstreamLog.host]: { ...creds } };
  const s = scene(redis.url, prefix, mirrorLog.host);
  const queue = createQueue(s.conn, prefix);
  const producer = new Producer({ store: s.store, queue, maxAttempts: () => 2, bufferLimit: 100 });
  const engine = new RegistryEngine({ config, retries: 0 });
  t.teardown(async () => {
    await producer.close();
    await queue.close();
    await engine.close();
    s.close();
  });
  for (const [ref, digest] of pushed) await s.record(ref, digest);
  upstreamLog.reset();
  const tokensBefore = ts.requests.length;
  ts.stingy = 1; // the shared (first) token carries no access at all
  const report = await runRefresh({ config: () => config, redis: s.conn, store: s.store, producer, engine, mirrorRefOf: s.mirrorRefOf, logger, now: s.now });
  t.match(report, { targets: TAGS.length, checked: TAGS.length, moved: 0, errors: 0, deferred: 0 }, 'every tag still checked');
  const asked = ts.requests.slice(tokensBefore).map((r) => [...r.scopes].sort().join(' '));
  t.equal(asked[0], 'repository:demo/app:pull repository:demo/other:pull', 'the shared token was asked first');
  t.same(asked.slice(1).sort(), ['repository:demo/app:pull', 'repository:demo/other:pull'], 'then one of its own per repository, after its 401');
});

/**
 * Through the real POST /hooks/registry (fastify app, guard, body parser,
 * Watcher on redis-server + docker-registry): every sender format, carrying
 * hooks.secret its own way, triggers a poll of the watch it names; and a
 * push of a tag pods run (the in-use index) re-checks and re-mirrors it.
 * Hosts the senders name (docker.io, ghcr.io, quay.io) are mapped to the
 * loopback registry with `registries.<host>.endpoint`: nothing leaves the machine.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import t from 'tap';
import { InUseStore } from '../../src/in-use/index.js';
import { connectRedis, createQueue, Producer } from '../../src/queue/index.js';
import { RegistryEngine } from '../../src/registry/index.js';
import { pollWatchesForEnvelope, type HookPollDeps } from '../../src/watch/hook-polls.js';
import { watchRoutes, type PollReport, type Watcher } from '../../src/watch/index.js';
import { send } from '../support/raw-http.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import { cleanupLayouts, harness, logger, nextEvent, push } from './support/env.js';

const SECRET = 'senders-secret-5678';
const fixture = (name: string): any => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'hooks', `${name}.json`), 'utf8'));
const sign = (raw: string) => `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`;

t.test('every sender format polls the watch it names', async (t) => {
  const redis = await startRedis();
  const upstream = await startRegistry();
  const mirror = await startRegistry();
  t.teardown(async () => {
    await Promise.all([redis.stop(), upstream.stop(), mirror.stop()]);
    cleanupLayouts();
  });
  const U = upstream.host;
  const repos = {
    dist: 'team/api',
    gitlab: 'platform/tools/builder',
    hub: 'acme/webshop',
    ghcr: 'acme-corp/inventory-service',
    quay: 'observability/metrics-agent',
    harbor: 'payments/ledger',
    harborce: 'payments/reports',
  } as const;
  const pushed: Record<string, string> = {};
  for (const [id, repo] of Object.entries(repos)) pushed[id] = (await push(upstream, repo, '1.0.0')).image.digest;
  const semver = (id: keyof typeof repos, domain: string) => ({ id, image: `${domain}/${repos[id]}`, strategy: 'semver' as const, constraint: '>=1', schedule: '0 0 1 1 *' });
  const h = await harness({
    redisUrl: redis.url,
    mirror,
    prefix: 'senders',
    hooksSecret: SECRET,
    workers: false,
    watch: [semver('dist', U), semver('gitlab', U), semver('hub', 'docker.io'), semver('ghcr', 'ghcr.io'), semver('quay', 'quay.io'), semver('harbor', U), semver('harborce', U)],
  });
  t.teardown(() => h.close());
  const endpoint = { endpoint: `http://${U}` };
  await h.setConfig({ ...h.config, registries: { 'docker.io': endpoint, 'ghcr.io': endpoint, 'quay.io': endpoint } });
  const started = Promise.all(Object.keys(repos).map((id) => nextEvent<PollReport>(h.watcher, 'polled', (r) => r.id === id)));
  await h.watcher.start();
  for (const r of await started) t.match(r, { result: 'initial', selected: { tag: '1.0.0' } }, `${r.id}: first poll (through the endpoint)`);

  const post = (path: string, body: string, headers: Record<string, string>) => send(h.url, 'POST', path, { headers: { 'content-type': 'application/json', ...headers }, body });
  const deliveries: { id: keyof typeof repos; format: string; path?: string; headers: (raw: string) => Record<string, string>; body: () => unknown }[] = [
    {
      id: 'dist',
      format: 'distribution',
      headers: () => ({ authorization: `Bearer ${SECRET}`, 'content-type': 'application/vnd.docker.distribution.events.v1+json' }),
      body: () => {
        const b = fixture('distribution');
        Object.assign(b.events[0].target, { tag: '1.0.0', digest: pushed.dist });
        b.events[0].request.host = U;
        b.events[1].request.host = U;
        return b;
      },
    },
    {
      id: 'gitlab',
      format: 'gitlab',
      headers: () => ({ 'x-gitlab-token': SECRET }),
      body: () => {
        const b = fixture('gitlab');
        Object.assign(b.events[0].target, { tag: '1.0.0', digest: pushed.gitlab });
        b.events[0].request.host = U;
        return b;
      },
    },
    {
      id: 'hub',
      format: 'dockerhub',
      path: `/hooks/registry?token=${SECRET}`,
      headers: () => ({}),
      body: () => {
        const b = fixture('dockerhub');
        b.push_data.tag = '1.0.0';
        return b;
      },
    },
    {
      id: 'ghcr',
      format: 'github',
      headers: (raw) => ({ 'x-github-event': 'package', 'x-github-delivery': 'd-1', 'x-hub-signature-256': sign(raw) }),
      body: () => {
        const b = fixture('github-package');
        b.package.package_version.container_metadata.tag = { name: '1.0.0', digest: pushed.ghcr };
        return b;
      },
    },
    {
      id: 'quay',
      format: 'quay',
      path: `/hooks/registry?token=${encodeURIComponent(SECRET)}`,
      headers: () => ({}),
      body: () => ({ ...fixture('quay'), updated_tags: ['1.0.0'] }),
    },
    {
      id: 'harbor',
      format: 'harbor',
      headers: () => ({ authorization: SECRET }),
      body: () => {
        const b = fixture('harbor');
        b.event_data.resources = [{ digest: pushed.harbor, tag: '1.0.0', resource_url: `${U}/${repos.harbor}:1.0.0` }];
        return b;
      },
    },
    {
      id: 'harborce',
      format: 'harbor-cloudevents',
      headers: () => ({ authorization: `Bearer ${SECRET}`, 'content-type': 'application/cloudevents+json' }),
      body: () => {
        const b = fixture('harbor-cloudevents');
        b.data.resources = [{ digest: pushed.harborce, tag: '1.0.0', resource_url: `${U}/${repos.harborce}:1.0.0` }];
        return b;
      },
    },
  ];
  for (const d of deliveries) {
    // Pretty-printed: the GitHub signature is over these exact bytes.
    const raw = JSON.stringify(d.body(), null, 2);
    const polled = nextEvent<PollReport>(h.watcher, 'polled', (r) => r.id === d.id);
    const res = await post(d.path ?? '/hooks/registry', raw, d.headers(raw));
    t.match(res, { status: 202, body: { format: d.format, polls: [d.id], rechecks: [] } }, `${d.format}: accepted`);
    t.equal(res.body.polls.length, 1, `${d.format}: only its own watch`);
    const report = await polled;
    t.ok(['hook', 'deferred'].includes(report.trigger), `${d.format}: polled by the hook (${report.trigger})`);
    t.match(report, { result: 'unchanged', selected: { tag: '1.0.0', digest: pushed[d.id] } });
  }

  // Refusals: each sender's credential, wrong.
  const gh = JSON.stringify(deliveries[3]!.body());
  const ghHeaders = { 'x-github-event': 'package' };
  t.match(await post('/hooks/registry', gh, { ...ghHeaders, 'x-hub-signature-256': sign(gh + ' ') }), { status: 401, body: { code: 'FERRY_ERR_HOOKS_UNAUTHORIZED', message: /X-Hub-Signature-256/ } }, 'GitHub: a signature over other bytes');
  t.match(await post('/hooks/registry', gh, ghHeaders), { status: 401 }, 'GitHub: no signature');
  t.match(await post('/hooks/registry', '{}', { 'x-gitlab-token': 'nope' }), { status: 401 }, 'GitLab: a wrong token');
  t.match(await post('/hooks/registry', '{}', { authorization: 'nope' }), { status: 401 }, 'Harbor: a wrong Auth Header');
  t.match(await post('/hooks/registry?token=nope', '{}', {}), { status: 401 }, 'Docker Hub / Quay: a wrong query token');
  const bad = await post('/hooks/registry', '{"what":"ever"}', { authorization: `Bearer ${SECRET}` });
  t.match(bad, { status: 400, body: { code: 'FERRY_ERR_WATCH_HOOK_INVALID', hint: /GitHub.*Harbor.*Docker Hub.*Quay.*distribution/, details: { accepted: ['github', 'harbor-cloudevents', 'harbor', 'dockerhub', 'quay', 'distribution'] } } }, 'unknown: 400 listing the formats');
  t.match(await post('/hooks/registry', '{"zen":"hi"}', { 'x-github-event': 'ping', 'x-hub-signature-256': sign('{"zen":"hi"}') }), { status: 202, body: { format: 'github', events: 0, polls: [], note: /ping/ } }, 'a GitHub ping');
  t.match(await post('/hooks/registry', gh, { 'content-type': 'text/plain', authorization: `Bearer ${SECRET}` }), { status: 415 }, 'text/plain is never a hook');
});

t.test('a push of a tag pods run (no watch owns it) re-checks it and re-mirrors the move', async (t) => {
  const redis = await startRedis();
  const upstream = await startRegistry();
  const mirror = await startRegistry();
  t.teardown(async () => {
    await Promise.all([redis.stop(), upstream.stop(), mirror.stop()]);
    cleanupLayouts();
  });
  const prefix = 'recheck';
  const h = await harness({ redisUrl: redis.url, mirror, prefix, hooksSecret: SECRET });
  t.teardown(() => h.close());
  const conn = connectRedis(redis.url);
  const queue = createQueue(conn, prefix);
  const producer = new Producer({ store: h.store, queue, maxAttempts: () => 3, bufferLimit: 100 });
  const engine = new RegistryEngine({ config: h.config, retries: 0 });
  const inUse = new InUseStore(conn, prefix);
  const closing = new AbortController();
  const tasks: Promise<unknown>[] = [];
  // The deps watcher.ts passes once it wires `recheck` (see the report); the route and everything behind it are real.
  const deps: HookPollDeps = {
    watches: async () => [],
    registries: () => h.config.registries,
    engine,
    signal: closing.signal,
    closed: () => closing.signal.aborted,
    poll: async () => undefined,
    background: (task) => void tasks.push(task),
    recheck: { inUse, store: h.store, producer, redis: conn, prefix: () => prefix, mirrorRefOf: h.mirrorRefOf, logger },
  };
  const app = Fastify();
  await app.register(watchRoutes({ notify: (body: unknown) => pollWatchesForEnvelope(deps, body) } as unknown as Watcher, () => h.config, logger));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(async () => {
    closing.abort();
    await app.close();
    await producer.close();
    await queue.close();
    await engine.close();
    conn.disconnect();
  });

  const repo = 'shop/web';
  const v1 = await push(upstream, repo, 'stable');
  const other = await push(upstream, repo, 'canary');
  // Mirrored on admission, as a pod asked for it; the pod runs it.
  await producer.enqueueNow({ ref: v1.ref, mirrorRef: h.mirrorRefOf(v1.ref), source: 'admission' });
  await h.mirrored(v1.ref, v1.image.digest);
  await producer.enqueueNow({ ref: other.ref, mirrorRef: h.mirrorRefOf(other.ref), source: 'admission' });
  await h.mirrored(other.ref, other.image.digest);
  const pod = (ref: string, digest: string) => ({ namespace: 'shop', pod: 'web', container: ref.endsWith(':stable') ? 'app' : 'canary', list: 'containers' as const, node: 'n1', image: ref, ref, digest, rewritten: false });
  await inUse.setPod('shop', 'web', [pod(v1.ref, v1.image.digest), pod(other.ref, other.image.digest)]);

  const v2 = await push(upstream, repo, 'stable');
  const body = JSON.stringify({ ...fixture('quay'), repository: repo, docker_url: `${upstream.host}/${repo}`, updated_tags: ['stable'] });
  const res = await send(url, 'POST', `/hooks/registry?token=${SECRET}`, { headers: { 'content-type': 'application/json' }, body });
  t.match(res, { status: 202, body: { format: 'quay', polls: [], rechecks: [v1.ref] } }, 'the in-use tag that was pushed, not the other');
  await Promise.all(tasks);
  const rec = await h.mirrored(v1.ref, v2.image.digest);
  t.ok(rec.driftedAt, 'noted as drifted, as refresh does');
  t.equal((await h.store.get(other.ref))?.digest, other.image.digest, 'the other tag is left alone');

  // Pushed again to what the mirror holds: a HEAD, nothing copied.
  tasks.length = 0;
  const again = await send(url, 'POST', `/hooks/registry?token=${SECRET}`, { headers: { 'content-type': 'application/json' }, body });
  t.match(again.body, { rechecks: [v1.ref] });
  await Promise.all(tasks);
  t.match(await h.store.get(v1.ref), { state: 'mirrored', digest: v2.image.digest });
});

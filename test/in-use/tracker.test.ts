/**
 * The pod tracker against the real parts: a private redis-server, the
 * stand-in Kubernetes API server and the real @kubernetes/client-node.
 * Every wait is on an event (the tracker's 'change'/'synced', a write
 * acknowledged, a request the stand-in logged), never a sleep.
 */
import t, { type Test } from 'tap';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { register } from 'prom-client';
import { startRedis } from '../support/redis.js';
import { startKubeApi, type KubeApi, type KubeObject } from '../support/kube-api.js';
import { startCutProxy } from './cut-proxy.js';
import { captureLogger, stallingServer } from '../events/support/events.js';
import { connectRedis } from '../../src/queue/index.js';
import { connectKube, type KubeClient } from '../../src/kube/index.js';
import { createLogger } from '../../src/observability/index.js';
import { InUseStore, startPodTracker, type PodChange, type PodTracker, type PodTrackerOptions } from '../../src/in-use/index.js';

const redis = await startRedis();
t.teardown(() => redis.stop());
const dir = mkdtempSync(join(tmpdir(), 'ferry-in-use-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const MIRROR = { registry: 'mirror.local:5000', prefix: '' };
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const NGINX = 'docker.io/library/nginx:1.27';

function pod(ns: string, name: string, image = 'nginx:1.27', o: { imageID?: string; annotations?: Record<string, string>; node?: string; phase?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: { nodeName: o.node ?? 'node-a', containers: [{ name: 'app', image }] },
    status: { phase: o.phase ?? 'Running', ...(o.imageID ? { containerStatuses: [{ name: 'app', image, imageID: o.imageID, ready: true }] } : {}) },
  };
}

let prefixes = 0;
let kubeconfigs = 0;

interface Setup {
  api: KubeApi;
  kube: KubeClient;
  store: InUseStore;
  /** Starts a tracker (closed at teardown); `written(key)` resolves when that pod's next write is acknowledged. */
  track(extra?: Partial<PodTrackerOptions>): Tracked;
}
interface Tracked {
  tracker: PodTracker;
  written(podKey: string): Promise<void>;
  changes: PodChange[];
}

/** A kubeconfig for `server` (the stand-in, or a proxy in front of it), loaded the way ferry loads one. */
async function kubeFor(server: string): Promise<KubeClient> {
  const file = join(dir, `kubeconfig-${++kubeconfigs}`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'standin', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'standin', user: { token: 'standin-token' } }],
      contexts: [{ name: 'standin', context: { cluster: 'standin', user: 'standin' } }],
      'current-context': 'standin',
    }),
  );
  return (await connectKube({ KUBECONFIG: file }))!;
}

async function setup(t: Test, objects: KubeObject[] = [], opts: { server?: (api: KubeApi) => Promise<string> } = {}): Promise<Setup> {
  const api = await startKubeApi({ objects });
  t.teardown(() => api.close());
  const kube = await kubeFor(opts.server ? await opts.server(api) : api.url);
  const conn = connectRedis(redis.url);
  t.teardown(() => conn.disconnect());
  const store = new InUseStore(conn, `t${++prefixes}`);
  const track = (extra: Partial<PodTrackerOptions> = {}): Tracked => {
    const waiters = new Map<string, (() => void)[]>();
    const tracker = startPodTracker({
      kube,
      store,
      mirror: () => MIRROR,
      logger: createLogger('silent'),
      heartbeatMs: 60_000,
      restartBackoffMs: 20,
      onIndexed: (key) => {
        for (const w of waiters.get(key) ?? []) w();
        waiters.delete(key);
      },
      ...extra,
    });
    const changes: PodChange[] = [];
    tracker.on('change', (c) => changes.push(c));
    t.teardown(() => tracker.close());
    return {
      tracker,
      changes,
      written: (key) => new Promise((resolve) => waiters.set(key, [...(waiters.get(key) ?? []), resolve])),
    };
  };
  return { api, kube, store, track };
}

const refsOf = (tr: PodTracker) => [...tr.pods()].map((p) => `${p.namespace}/${p.name}:${p.images.map((i) => i.ref).join(',')}`).sort();

t.test('pods present before start are indexed after the first list; the index is live', async (t) => {
  const { store, track } = await setup(t, [pod('a', 'one', 'nginx:1.27', { imageID: `docker.io/library/nginx@${D1}` }), pod('b', 'two', 'redis:7')]);
  t.same(await store.live(), { live: false, syncedAt: null });
  const { tracker } = track();
  t.equal(tracker.synced, false);
  await once(tracker, 'synced');
  t.equal(tracker.synced, true);
  t.equal(tracker.size, 2);
  t.same(refsOf(tracker), ['a/one:docker.io/library/nginx:1.27', 'b/two:docker.io/library/redis:7']);
  t.same(await store.inUseRefs(), [NGINX, 'docker.io/library/redis:7']);
  t.match(await store.podsOf(NGINX), [{ namespace: 'a', pod: 'one', container: 'app', node: 'node-a', digest: D1 }]);
  t.match(await store.live(), { live: true, syncedAt: /Z$/ });
  const metrics = await register.metrics();
  t.match(metrics, /ferry_in_use_pods 2\b/);
  t.match(metrics, /ferry_in_use_images 2\b/);
});

t.test('new pods, status digests, rewritten pods, deletes; status-only updates write nothing', async (t) => {
  const { api, store, track } = await setup(t);
  const { tracker, written, changes } = track();
  await once(tracker, 'synced');

  let w = written('a/web');
  api.apply(pod('a', 'web', 'nginx:1.27'));
  await w;
  t.match(await store.podsOf(NGINX), [{ pod: 'web', digest: null }]);

  w = written('a/web');
  api.apply(pod('a', 'web', 'nginx:1.27', { imageID: `docker-pullable://nginx@${D1}` }));
  await w;
  t.match(await store.podsOf(NGINX), [{ pod: 'web', digest: D1 }], 'the status imageID fills the digest');
  t.same((await store.digestUses([D1])).get(D1)?.running, 1);

  // A status-only change (phase, readiness) changes no image: no change event, no write.
  const before = changes.length;
  api.apply(pod('a', 'web', 'nginx:1.27', { imageID: `docker-pullable://nginx@${D1}`, phase: 'Succeeded' }));
  w = written('a/rewritten');
  api.apply(
    pod('a', 'rewritten', `mirror.local:5000/docker.io/library/nginx:1.27@${D2}`, {
      annotations: { 'ferry.io/original-images': JSON.stringify({ app: 'nginx:1.27' }) },
      imageID: `mirror.local:5000/docker.io/library/nginx@${D2}`,
    }),
  );
  await w;
  t.same(changes.slice(before).map((c) => `${c.type} ${c.name}`), ['upsert rewritten'], 'the status-only update emitted nothing');
  t.match(changes.at(-1), { type: 'upsert', namespace: 'a', name: 'rewritten', uid: /-/, previous: [], images: [{ ref: NGINX, rewritten: true, digest: D2 }] });
  t.same((await store.usedBy([NGINX])).get(NGINX)?.pods, 2, 'the rewritten pod counts for its upstream ref');

  w = written('a/web');
  api.remove('Pod', 'a', 'web');
  await w;
  t.match(changes.at(-1), { type: 'delete', name: 'web', images: [], previous: [{ ref: NGINX }] });
  w = written('a/rewritten');
  api.remove('Pod', 'a', 'rewritten');
  await w;
  t.same(await store.podsOf(NGINX), []);
  const used = (await store.usedBy([NGINX])).get(NGINX);
  t.equal(used?.pods, 0);
  t.match(used?.lastSeenAt, /Z$/, 'the ref remembers when it was last seen');
  t.match((await store.digestUses([D1])).get(D1), { running: 0, lastSeenAt: /Z$/ });
  t.equal(tracker.size, 0);
  t.ok((await register.getSingleMetricAsString('ferry_in_use_update_seconds')).includes('ferry_in_use_update_seconds_count'), 'update latency observed');
});

t.test('a pod deleted while the watch is down and history compacted (410 Gone) is removed by the relist', async (t) => {
  const { api, store, track } = await setup(t, [pod('a', 'stays'), pod('a', 'goes', 'redis:7')]);
  const { tracker, changes } = track();
  await once(tracker, 'synced');
  await api.waitForRequest((r) => r.watch && r.path === '/api/v1/pods');

  // One tick: the watch ends, the pod goes, the history is forgotten; the re-watch gets 410.
  api.disconnectWatches();
  api.remove('Pod', 'a', 'goes');
  api.apply(pod('b', 'new', 'alpine:3'));
  api.compact();
  await once(tracker, 'synced');
  t.ok(api.sent.some((e) => e.type === 'ERROR' && e.path === '/api/v1/pods'), 'the re-watch got 410');
  t.same(refsOf(tracker), ['a/stays:docker.io/library/nginx:1.27', 'b/new:docker.io/library/alpine:3']);
  t.same(await store.inUseRefs(), ['docker.io/library/alpine:3', NGINX]);
  t.match([...changes].reverse().find((c) => c.name === 'goes'), { type: 'delete', previous: [{ ref: 'docker.io/library/redis:7' }] });
  t.equal((await store.usedBy(['docker.io/library/redis:7'])).get('docker.io/library/redis:7')?.pods, 0);
});

t.test('pods Redis lost before a relist are written again by it, though they did not change', async (t) => {
  const { api, store, track } = await setup(t, [pod('a', 'one', 'nginx:1.27', { imageID: `nginx@${D1}` }), pod('a', 'two', 'redis:7')]);
  const { tracker } = track();
  await once(tracker, 'synced');
  await api.waitForRequest((r) => r.watch && r.path === '/api/v1/pods');
  // Redis comes back empty (restarted without its data) just as the watch needs a relist: the
  // relist's heartbeat is its first, so it cannot tell the index is gone.
  const lost = await store.redis.keys(`${store.prefix}:inuse:*`);
  await store.redis.del(...lost);
  api.disconnectWatches();
  api.apply(pod('b', 'new', 'alpine:3'));
  api.compact();
  await once(tracker, 'synced');
  t.ok(api.sent.some((e) => e.type === 'ERROR' && e.path === '/api/v1/pods'), 'the re-watch got 410');
  t.same(await store.inUseRefs(), ['docker.io/library/alpine:3', NGINX, 'docker.io/library/redis:7']);
  t.match(await store.podsOf(NGINX), [{ pod: 'one', digest: D1 }]);
  t.same((await store.digestUses([D1])).get(D1)?.running, 1);
  t.equal((await store.live()).live, true);
});

t.test('a pod removed while ferry was stopped is dropped by the reconcile on the next start', async (t) => {
  const { api, store, track } = await setup(t, [pod('a', 'one'), pod('a', 'two', 'redis:7')]);
  const first = track();
  await once(first.tracker, 'synced');
  await first.tracker.close();
  t.equal((await store.live()).live, false, 'a closed tracker stops counting at once');
  api.remove('Pod', 'a', 'two');
  t.same(await store.inUseRefs(), [NGINX, 'docker.io/library/redis:7'], 'nobody watched the removal');
  const second = track();
  await once(second.tracker, 'synced');
  t.same(await store.inUseRefs(), [NGINX]);
  t.match((await store.usedBy(['docker.io/library/redis:7'])).get('docker.io/library/redis:7'), { pods: 0, lastSeenAt: /Z$/ });
  t.equal((await store.live()).live, true);
});

t.test('the list pages with limit and continue', async (t) => {
  const objects = Array.from({ length: 23 }, (_, i) => pod(`ns-${i % 3}`, `p-${String(i).padStart(2, '0')}`, `app${i % 5}:1`));
  const { api, store, track } = await setup(t, objects);
  const { tracker } = track({ pageSize: 10 });
  await once(tracker, 'synced');
  const lists = api.requests.filter((r) => r.path === '/api/v1/pods' && !r.watch);
  t.same(lists.map((r) => [r.query.limit, Boolean(r.query.continue)]), [['10', false], ['10', true], ['10', true]]);
  t.equal(tracker.size, 23);
  t.equal((await store.inUseRefs()).length, 5);
  t.match((await store.usedBy(['docker.io/library/app0:1'])).get('docker.io/library/app0:1'), { pods: 5, namespaces: ['ns-0', 'ns-1', 'ns-2'] });
});

t.test('an expired continue token (410) restarts the list unpaged', async (t) => {
  const objects = Array.from({ length: 15 }, (_, i) => pod('ns', `p-${String(i).padStart(2, '0')}`));
  const { api, track } = await setup(t, objects);
  // Runs inside the server's request handler, before it answers: the second page's token expires under it.
  let expired = false;
  void api.waitForRequest((r) => {
    if (!expired && r.path === '/api/v1/pods' && r.query.continue) {
      expired = true;
      api.apply(pod('ns', 'late', 'redis:7'));
      api.compact();
    }
    return expired;
  });
  const { tracker } = track({ pageSize: 10 });
  await once(tracker, 'synced');
  const lists = api.requests.filter((r) => r.path === '/api/v1/pods' && !r.watch);
  t.same(lists.map((r) => [r.query.limit, Boolean(r.query.continue), r.status]), [['10', false, 200], ['10', true, 410], [undefined, false, 200]]);
  t.equal(tracker.size, 16, 'every pod, the late one included');
});

t.test('two trackers (replicas) on one Redis agree', async (t) => {
  const { api, store, track } = await setup(t, [pod('a', 'one'), pod('a', 'two', 'redis:7')]);
  const a = track();
  const b = track();
  await Promise.all([once(a.tracker, 'synced'), once(b.tracker, 'synced')]);
  const both = (key: string) => Promise.all([a.written(key), b.written(key)]);
  let w = both('a/three');
  api.apply(pod('a', 'three', 'nginx:1.27', { imageID: `nginx@${D1}` }));
  await w;
  w = both('a/one');
  api.remove('Pod', 'a', 'one');
  await w;
  t.same(await store.podsOf(NGINX).then((r) => r.map((x) => [x.pod, x.digest])), [['three', D1]]);
  t.same((await store.usedBy([NGINX])).get(NGINX)?.pods, 1, 'written twice, counted once');
  t.same((await store.digestUses([D1])).get(D1)?.running, 1);
  await a.tracker.close();
  t.equal((await store.live()).live, true, 'the other replica still beats');
  const only = b.written('a/two');
  api.remove('Pod', 'a', 'two');
  await only;
  t.same(await store.inUseRefs(), [NGINX]);
});

t.test('a broken connection: not live meanwhile, restart with backoff, the relist catches up', async (t) => {
  let proxy: Awaited<ReturnType<typeof startCutProxy>> | undefined;
  const { api, store, track } = await setup(t, [pod('a', 'stays'), pod('a', 'goes', 'redis:7')], {
    server: async (api) => {
      proxy = await startCutProxy(api.url);
      return proxy.url;
    },
  });
  t.teardown(() => proxy!.close());
  const { tracker } = track();
  await once(tracker, 'synced');
  t.equal((await store.live()).live, true);
  const errorsBefore = await register.getSingleMetricAsString('ferry_pod_watch_errors_total');

  const lost = once(tracker, 'watchError');
  proxy!.cut();
  api.remove('Pod', 'a', 'goes');
  api.compact();
  // The broken watch's re-watch gets 503: the tracker stops heartbeating.
  await lost;
  t.equal(tracker.synced, false);
  t.equal((await store.live()).live, false, 'not live while the watch is down');
  t.same(await store.inUseRefs(), [NGINX, 'docker.io/library/redis:7'], 'the index keeps what it had');
  t.not(await register.getSingleMetricAsString('ferry_pod_watch_errors_total'), errorsBefore, 'the error is counted');

  proxy!.restore();
  await once(tracker, 'synced');
  t.same(await store.inUseRefs(), [NGINX]);
  t.equal((await store.live()).live, true, 'live again');
});

t.test('a watch refused right after every list: never synced, and the restarts back off', async (t) => {
  let proxy: Awaited<ReturnType<typeof startCutProxy>> | undefined;
  const { store, track } = await setup(t, [pod('a', 'one')], {
    server: async (api) => {
      proxy = await startCutProxy(api.url);
      return proxy.url;
    },
  });
  t.teardown(() => proxy!.close());
  proxy!.refuseWatches(true);
  // Each list's reconcile settles after its watch was refused, as when Redis answers slower than the API refuses.
  let tracker: PodTracker | undefined;
  let gated = true;
  const reconcile = store.reconcile.bind(store);
  store.reconcile = async (...args) => {
    if (gated) await once(tracker!, 'watchError');
    return reconcile(...args);
  };
  const { logger, lines } = captureLogger('warn');
  tracker = track({ logger, restartBackoffMs: 20 }).tracker;
  let synced = 0;
  tracker.on('synced', () => synced++);
  for (let i = 0; i < 5; i++) await once(tracker, 'watchError');
  t.equal(synced, 0, 'a list whose watch failed is no sync');
  t.equal(tracker.synced, false);
  t.equal((await store.live()).live, false, 'not live without a watch');
  const delays = lines().filter((l) => String(l.msg).startsWith('pod watch failed')).map((l) => Number(l.retryInMs));
  t.ok(delays.length >= 5 && delays[4]! >= 160, `the backoff grows although every list succeeds: ${delays.join(', ')} ms`);

  gated = false;
  proxy!.refuseWatches(false);
  await once(tracker, 'synced');
  t.equal((await store.live()).live, true);
});

t.test('a list the API server never answers times out and is retried, its socket closed', { timeout: 20_000 }, async (t) => {
  const stall = await stallingServer(t);
  const kube = await kubeFor(stall.url);
  const conn = connectRedis(redis.url);
  t.teardown(() => conn.disconnect());
  const tracker = startPodTracker({ kube, store: new InUseStore(conn, `t${++prefixes}`), mirror: () => MIRROR, logger: createLogger('silent'), restartBackoffMs: 20, listTimeoutMs: 200 });
  t.teardown(() => tracker.close());
  await once(tracker, 'watchError');
  await once(tracker, 'watchError');
  t.ok(stall.accepted() >= 2, 'listed again after the deadline');
  t.ok(stall.open() <= 1, `timed-out lists leave no socket behind (${stall.open()} open)`);
  t.equal(tracker.synced, false);
});

t.test('credentials that fail as the watch resumes: a restart with backoff, not an unhandled rejection', async (t) => {
  const api = await startKubeApi({ objects: [pod('a', 'one')] });
  t.teardown(() => api.close());
  // An exec credential plugin (EKS, GKE) run for every request, failing while `flag` exists.
  const flag = join(dir, `exec-fails-${++kubeconfigs}`);
  const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 't', expirationTimestamp: '2000-01-01T00:00:00Z' } });
  const file = join(dir, `kubeconfig-${kubeconfigs}`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'standin', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'standin', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'sh', args: ['-c', `if [ -e '${flag}' ]; then echo refused >&2; exit 1; fi; echo '${credential}'`] } } }],
      contexts: [{ name: 'standin', context: { cluster: 'standin', user: 'standin' } }],
      'current-context': 'standin',
    }),
  );
  const kube = (await connectKube({ KUBECONFIG: file }))!;
  const conn = connectRedis(redis.url);
  t.teardown(() => conn.disconnect());
  const store = new InUseStore(conn, `t${++prefixes}`);
  const tracker = startPodTracker({ kube, store, mirror: () => MIRROR, logger: createLogger('silent'), heartbeatMs: 60_000, restartBackoffMs: 20 });
  t.teardown(() => tracker.close());
  await once(tracker, 'synced');
  await api.waitForRequest((r) => r.watch && r.path === '/api/v1/pods');

  writeFileSync(flag, '');
  const failed = once(tracker, 'watchError');
  api.disconnectWatches(); // the re-watch asks the plugin for a token, and it fails
  await failed;
  t.equal(tracker.synced, false);
  rmSync(flag);
  await once(tracker, 'synced');
  t.same(await store.inUseRefs(), [NGINX]);
});

t.test('closed while its first list is in flight: no watch is started after it', async (t) => {
  const { api, track } = await setup(t, [pod('a', 'one')]);
  let tracker: PodTracker | undefined;
  let closing: Promise<void> | undefined;
  // Runs inside the server's handler, before it answers the list.
  void api.waitForRequest((r) => {
    if (!closing && r.path === '/api/v1/pods' && !r.watch) closing = tracker!.close();
    return closing !== undefined;
  });
  tracker = track().tracker;
  await api.waitForRequest((r) => r.path === '/api/v1/pods' && !r.watch);
  await closing;
  await t.rejects(api.waitForRequest((r) => r.watch, 1000), 'no watch request once the list is answered');
  t.equal(api.openWatches, 0);
});

t.test('the list is asked for gzip, as client-node asks for it, and read compressed', { timeout: 20_000 }, async (t) => {
  const encodings: string[] = [];
  const watches = new Set<import('node:http').ServerResponse>();
  const server = createServer((req, res) => {
    if (/[?&]watch=true/.test(req.url ?? '')) {
      res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
      watches.add(res);
      return;
    }
    encodings.push(String(req.headers['accept-encoding']));
    const list = { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '5' }, items: [{ ...pod('a', 'one'), metadata: { name: 'one', namespace: 'a', uid: 'u1', resourceVersion: '5' } }] };
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(JSON.stringify(list)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const w of watches) w.destroy();
    server.close();
  });
  const kube = await kubeFor(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  const conn = connectRedis(redis.url);
  t.teardown(() => conn.disconnect());
  const store = new InUseStore(conn, `t${++prefixes}`);
  const tracker = startPodTracker({ kube, store, mirror: () => MIRROR, logger: createLogger('silent'), heartbeatMs: 60_000 });
  t.teardown(() => tracker.close());
  await once(tracker, 'synced');
  t.match(encodings[0], /gzip/);
  t.same(await store.inUseRefs(), [NGINX]);
});

t.test('a mirror change (config reload) re-maps every pod on the next tick', async (t) => {
  const { store, track } = await setup(t, [pod('a', 'one', 'mirror2.local:5000/docker.io/library/nginx:1.27')]);
  const mirror = { registry: 'mirror.local:5000', prefix: '' };
  const { tracker, written } = track({ mirror: () => mirror, heartbeatMs: 50 });
  await once(tracker, 'synced');
  t.same(await store.inUseRefs(), ['mirror2.local:5000/docker.io/library/nginx:1.27'], 'not under the mirror: its own ref');
  const w = written('a/one');
  mirror.registry = 'mirror2.local:5000';
  await w;
  t.same(await store.inUseRefs(), [NGINX]);
  t.equal(tracker.refCount, 1);
});

// Last: it restarts the shared redis-server, which loses every key.
t.test('Redis restarted without its data: the lapsed heartbeat makes the tracker write its view again', async (t) => {
  const { store, track } = await setup(t, [pod('a', 'one', 'nginx:1.27', { imageID: `nginx@${D1}` }), pod('a', 'two', 'redis:7')]);
  const { tracker, written } = track({ heartbeatMs: 100 });
  await once(tracker, 'synced');
  t.same(await store.inUseRefs(), [NGINX, 'docker.io/library/redis:7']);
  // Waiters first: the tracker may notice the lapse and write again before
  // this test could read the empty index, so the proof that the data went is
  // a key of the test's own, which the tracker never writes.
  const sentinel = connectRedis(redis.url);
  t.teardown(() => sentinel.disconnect());
  await sentinel.set(`sentinel${prefixes}`, '1');
  const rewritten = Promise.all([written('a/one'), written('a/two'), once(tracker, 'synced')]);
  await redis.kill();
  await redis.start();
  t.equal(await sentinel.get(`sentinel${prefixes}`), null, 'the restart lost every key');
  await rewritten;
  t.same(await store.inUseRefs(), [NGINX, 'docker.io/library/redis:7']);
  t.match(await store.podsOf(NGINX), [{ pod: 'one', digest: D1 }]);
  t.equal((await store.live()).live, true, 'live again after a synced heartbeat');
});

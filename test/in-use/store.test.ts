import t from 'tap';
import type { Test } from 'tap';
import { startRedis } from '../support/redis.js';
import { connectRedis } from '../../src/queue/index.js';
import { InUseStore, type PodImage } from '../../src/in-use/index.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const NGINX = 'docker.io/library/nginx:1.27';
const REDIS = 'docker.io/library/redis:7';

function img(namespace: string, pod: string, container: string, ref: string, extra: Partial<PodImage> = {}): PodImage {
  return { namespace, pod, container, list: 'containers', node: 'node-a', image: ref, ref, digest: null, rewritten: false, ...extra };
}

let prefixes = 0;
/** A store on its own key prefix with a clock the test moves. */
function makeStore(t: Test, prefix = `p${++prefixes}`) {
  const conn = connectRedis(redis.url);
  t.teardown(() => conn.disconnect());
  const clock = { ms: Date.parse('2025-01-01T00:00:00Z') };
  const store = new InUseStore(conn, prefix, () => clock.ms);
  return { store, clock, conn };
}

t.test('setPod indexes a pod; podsOf, usedBy, digestUses and inUseRefs read it', async (t) => {
  const { store } = makeStore(t);
  await store.setPod('shop', 'web-1', [img('shop', 'web-1', 'app', NGINX, { digest: D1 }), img('shop', 'web-1', 'cache', REDIS)]);
  const runs = await store.podsOf(NGINX);
  t.same(runs, [
    { namespace: 'shop', pod: 'web-1', container: 'app', node: 'node-a', digest: D1, firstSeenAt: '2025-01-01T00:00:00.000Z', lastSeenAt: '2025-01-01T00:00:00.000Z' },
  ]);
  t.same(await store.inUseRefs(), [NGINX, REDIS]);
  const used = await store.usedBy([NGINX, REDIS, 'docker.io/library/never:1']);
  t.same(used.get(NGINX), { pods: 1, namespaces: ['shop'], lastSeenAt: '2025-01-01T00:00:00.000Z' });
  t.equal(used.has('docker.io/library/never:1'), false, 'a ref never seen is absent');
  t.same(Object.fromEntries(await store.digestUses([D1, D2])), { [D1]: { running: 1, lastSeenAt: '2025-01-01T00:00:00.000Z' } });
});

t.test('containers of one pod naming one ref count as one pod; namespaces are sorted', async (t) => {
  const { store } = makeStore(t);
  await store.setPod('zeta', 'a', [img('zeta', 'a', 'one', NGINX, { digest: D1 }), img('zeta', 'a', 'two', NGINX, { digest: D1 })]);
  await store.setPod('alpha', 'b', [img('alpha', 'b', 'one', NGINX)]);
  await store.setPod('alpha', 'c', [img('alpha', 'c', 'one', NGINX)]);
  t.same((await store.usedBy([NGINX])).get(NGINX)?.pods, 3);
  t.same((await store.usedBy([NGINX])).get(NGINX)?.namespaces, ['alpha', 'zeta']);
  t.same((await store.digestUses([D1])).get(D1)?.running, 1);
  t.same((await store.podsOf(NGINX)).map((r) => `${r.namespace}/${r.pod}/${r.container}`), ['alpha/b/one', 'alpha/c/one', 'zeta/a/one', 'zeta/a/two']);
  await store.removePod('alpha', 'b');
  await store.removePod('alpha', 'c');
  t.same((await store.usedBy([NGINX])).get(NGINX)?.namespaces, ['zeta'], 'a namespace goes with its last pod');
});

t.test('setPod replaces: a changed image moves the pod; firstSeenAt survives a digest or node change', async (t) => {
  const { store, clock } = makeStore(t);
  await store.setPod('ns', 'p', [img('ns', 'p', 'app', NGINX, { node: null })]);
  clock.ms += 60_000;
  t.equal(await store.setPod('ns', 'p', [img('ns', 'p', 'app', NGINX, { digest: D1, node: 'node-b' })]), 1);
  const [run] = await store.podsOf(NGINX);
  t.equal(run?.firstSeenAt, '2025-01-01T00:00:00.000Z');
  t.equal(run?.node, 'node-b');
  t.equal(run?.digest, D1);
  clock.ms += 60_000;
  await store.setPod('ns', 'p', [img('ns', 'p', 'app', REDIS, { digest: D2 })]);
  t.same(await store.podsOf(NGINX), []);
  t.same(await store.inUseRefs(), [REDIS]);
  t.same((await store.usedBy([NGINX])).get(NGINX), { pods: 0, namespaces: [], lastSeenAt: '2025-01-01T00:02:00.000Z' });
  t.same((await store.digestUses([D1])).get(D1), { running: 0, lastSeenAt: '2025-01-01T00:02:00.000Z' });
  t.equal((await store.podsOf(REDIS))[0]?.firstSeenAt, '2025-01-01T00:02:00.000Z', 'a new ref in a container is first seen now');
});

t.test('idempotent: writing the same pod again (another replica) changes nothing', async (t) => {
  const { store, clock, conn } = makeStore(t);
  const other = new InUseStore(conn, store.prefix, () => clock.ms + 5_000);
  const images = [img('ns', 'p', 'app', NGINX, { digest: D1 })];
  t.equal(await store.setPod('ns', 'p', images), 1);
  t.equal(await other.setPod('ns', 'p', images), 0);
  t.equal(await store.setPod('ns', 'p', images), 0);
  t.equal((await store.podsOf(NGINX))[0]?.firstSeenAt, '2025-01-01T00:00:00.000Z');
  t.same((await store.usedBy([NGINX])).get(NGINX)?.pods, 1);
  t.same((await store.digestUses([D1])).get(D1)?.running, 1);
  await other.removePod('ns', 'p');
  await store.removePod('ns', 'p');
  t.same((await store.usedBy([NGINX])).get(NGINX)?.pods, 0);
});

t.test('removePod keeps last-seen; keys do not outlive the pods (memory follows pods)', async (t) => {
  const { store, clock, conn } = makeStore(t);
  for (let i = 0; i < 20; i++) await store.setPod('ns', `p${i}`, [img('ns', `p${i}`, 'app', `docker.io/library/img${i % 4}:1`, { digest: D1 })]);
  clock.ms += 1_000;
  for (let i = 0; i < 20; i++) await store.removePod('ns', `p${i}`);
  const keys = (await conn.keys(`${store.prefix}:inuse:*`)).sort();
  t.same(keys, [`${store.prefix}:inuse:seen:digest`, `${store.prefix}:inuse:seen:ref`], 'only the last-seen hashes remain');
  t.same((await store.usedBy(['docker.io/library/img3:1'])).get('docker.io/library/img3:1'), { pods: 0, namespaces: [], lastSeenAt: '2025-01-01T00:00:01.000Z' });
  t.same(await store.inUseRefs(), []);
  await store.removePod('ns', 'never-there');
});

t.test('reconcile removes pods not present and returns how many', async (t) => {
  const { store } = makeStore(t);
  for (let i = 0; i < 1200; i++) await store.setPod(`ns${i % 3}`, `p${i}`, [img(`ns${i % 3}`, `p${i}`, 'app', NGINX)]);
  const present = new Set(['ns0/p0', 'ns1/p1', 'ns2/p2', 'ns0/unknown']);
  t.equal(await store.reconcile(present), 1197);
  t.same((await store.usedBy([NGINX])).get(NGINX), { pods: 3, namespaces: ['ns0', 'ns1', 'ns2'], lastSeenAt: '2025-01-01T00:00:00.000Z' });
  t.equal(await store.reconcile(present), 0);
  t.equal(await store.reconcile(new Set()), 3);
  t.same(await store.inUseRefs(), []);
});

t.test('reconcile writes again the pods of the view that the index lost', async (t) => {
  const { store } = makeStore(t);
  const kept = img('ns', 'kept', 'app', NGINX, { digest: D1 });
  await store.setPod('ns', 'kept', [kept]);
  const view = [
    { namespace: 'ns', pod: 'kept', images: [kept] },
    { namespace: 'ns', pod: 'lost', images: [img('ns', 'lost', 'app', NGINX, { digest: D1 })] },
    { namespace: 'ns', pod: 'empty', images: [] },
  ];
  t.equal(await store.reconcile(new Set(view.map((p) => `${p.namespace}/${p.pod}`)), view), 0, 'nothing removed');
  t.same((await store.podsOf(NGINX)).map((r) => r.pod), ['kept', 'lost']);
  t.same((await store.usedBy([NGINX])).get(NGINX)?.pods, 2);
  t.same((await store.digestUses([D1])).get(D1)?.running, 2);
});

t.test('an image volume entry (`volume/<name>`) round-trips', async (t) => {
  const { store } = makeStore(t);
  await store.setPod('ns', 'p', [img('ns', 'p', 'volume/models', NGINX, { list: 'volumes', node: null, rewritten: true })]);
  t.same(await store.podsOf(NGINX), [
    { namespace: 'ns', pod: 'p', container: 'volume/models', node: null, digest: null, firstSeenAt: '2025-01-01T00:00:00.000Z', lastSeenAt: '2025-01-01T00:00:00.000Z' },
  ]);
  t.same(await store.setPod('ns', 'p', []), 1, 'an empty list removes the pod');
  t.same(await store.podsOf(NGINX), []);
});

t.test('heartbeat/live: live while a synced tracker beats within its TTL', async (t) => {
  const { store, clock } = makeStore(t);
  t.same(await store.live(), { live: false, syncedAt: null });
  t.equal(await store.heartbeat(10_000, { tracker: 'a' }), false, 'a first beat continues nothing');
  t.same(await store.live(), { live: false, syncedAt: null }, 'a heartbeat before any initial list is not live');
  t.equal(await store.heartbeat(10_000, { tracker: 'a', synced: true }), true, 'a beat within the TTL continues');
  t.same(await store.live(), { live: true, syncedAt: '2025-01-01T00:00:00.000Z' });
  clock.ms += 5_000;
  await store.heartbeat(10_000, { tracker: 'b', synced: true });
  clock.ms += 7_000;
  t.same(await store.live(), { live: true, syncedAt: '2025-01-01T00:00:05.000Z' }, 'b is still within its TTL');
  clock.ms += 4_000;
  t.same(await store.live(), { live: false, syncedAt: '2025-01-01T00:00:05.000Z' }, 'every TTL ran out');
  t.equal(await store.heartbeat(10_000, { tracker: 'a' }), false, 'a beat after the TTL lapsed says so');
  t.equal((await store.live()).live, true);
  await store.endHeartbeat('a');
  t.equal((await store.live()).live, false, 'endHeartbeat stops counting at once');
});

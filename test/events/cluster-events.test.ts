/**
 * FerryRewrote and FerryBlockedImageInUse from what runs (src/watch/cluster-events.ts): pod changes in,
 * Events out to the stand-in Kubernetes API (real client-node), "once" kept in a real redis-server,
 * record changes from a real RecordFeed. Most tests drive the pod side with a plain emitter holding
 * PodImages made by the real podImages(); the last one runs the real pod tracker against the stand-in.
 */
import t, { type Test } from 'tap';
import { EventEmitter, once } from 'node:events';
import { resolveConfig, type FerryConfig } from '../../src/config/index.js';
import { InUseStore, podImages, startPodTracker, type PodChange, type TrackedPod } from '../../src/in-use/index.js';
import { createEventRecorder, type EventRecorder } from '../../src/kube/index.js';
import { createLogger } from '../../src/observability/index.js';
import { connectRedis, ImageStore, RecordFeed } from '../../src/queue/index.js';
import { blockedImagesInUse, clusterEventKeys, startClusterEvents, type ClusterEventsOptions, type PodSource } from '../../src/watch/cluster-events.js';
import type { KubeObject } from '../support/kube-api.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { captureLogger, coreEvents, standIn, type StandIn } from './support/events.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

const MIRROR = { registry: 'mirror.local:5000', prefix: '' };
const D1 = `sha256:${'1'.repeat(64)}`;
const NGINX = 'docker.io/library/nginx:1.27';
const REDIS7 = 'docker.io/library/redis:7';
let prefixes = 0;

/** A pod ferry rewrote (mirror images + `ferry.io/original-images`), or a plain one. */
function pod(name: string, o: { rewritten?: Record<string, string>; images?: Record<string, string>; digest?: string; ns?: string } = {}): KubeObject {
  const images = o.images ?? Object.fromEntries(Object.entries(o.rewritten ?? { app: 'nginx:1.27' }).map(([c, i]) => [c, `${MIRROR.registry}/docker.io/library/${i}`]));
  const containers = Object.entries(images).map(([n, image]) => ({ name: n, image }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.ns ?? 'shop', ...(o.rewritten ? { annotations: { 'ferry.io/original-images': JSON.stringify(o.rewritten) } } : {}) },
    spec: { nodeName: 'node-a', containers },
    status: { phase: 'Running', ...(o.digest ? { containerStatuses: containers.map((c) => ({ name: c.name, image: c.image, imageID: `x@${o.digest}` })) } : {}) },
  };
}

/** The pod tracker's contract, nothing more: changes, syncs, and its view. */
class Pods extends EventEmitter<{ change: [PodChange]; synced: [] }> implements PodSource {
  private readonly view = new Map<string, TrackedPod>();
  pods(): Iterable<TrackedPod> {
    return this.view.values();
  }
  /** The stand-in's pod (so kubectl can describe it) as the tracker would report it. */
  put(obj: KubeObject): TrackedPod {
    const namespace = obj.metadata!.namespace!;
    const name = obj.metadata!.name!;
    const key = `${namespace}/${name}`;
    const previous = this.view.get(key)?.images ?? [];
    const p: TrackedPod = { namespace, name, uid: obj.metadata!.uid!, images: podImages(obj, MIRROR) };
    this.view.set(key, p);
    this.emit('change', { type: 'upsert', ...p, previous });
    return p;
  }
  del(namespace: string, name: string): void {
    const p = this.view.get(`${namespace}/${name}`);
    this.view.delete(`${namespace}/${name}`);
    if (p) this.emit('change', { type: 'delete', namespace, name, uid: p.uid, images: [], previous: p.images });
  }
}

interface Setup {
  k: StandIn;
  pods: Pods;
  recorder: EventRecorder;
  config: { current: FerryConfig };
  prefix: string;
  conn: ReturnType<typeof connectRedis>;
  start(extra?: Partial<ClusterEventsOptions>): ReturnType<typeof startClusterEvents>;
  /** Claims settled, Events written: what the stand-in holds of `reason`. */
  events(reason: string): Promise<Array<Record<string, any>>>;
}

async function setup(t: Test, raw: object = {}, r: TestRedis = redis): Promise<Setup> {
  const k = await standIn(t);
  const conn = connectRedis(r.url);
  conn.on('error', () => {}); // one test stops this Redis on purpose
  t.teardown(() => conn.disconnect());
  const recorder = createEventRecorder(k.client, createLogger('silent'), { flushIntervalMs: 60_000 });
  t.teardown(() => recorder.close(200));
  const config = { current: resolveConfig({ mirror: MIRROR, ...raw }).config };
  const prefix = `ce${++prefixes}`;
  const pods = new Pods();
  const started: Array<ReturnType<typeof startClusterEvents>> = [];
  const start = (extra: Partial<ClusterEventsOptions> = {}) => {
    const ce = startClusterEvents({ tracker: pods, recorder, config: () => config.current, records: { get: () => undefined }, redis: conn, prefix, logger: createLogger('silent'), ...extra });
    started.push(ce);
    t.teardown(() => ce.close());
    return ce;
  };
  const events = async (reason: string) => {
    for (const ce of started) await ce.idle();
    await recorder.flush();
    return coreEvents(k.api).filter((e) => e.reason === reason);
  };
  return { k, pods, recorder, config, prefix, conn, start, events };
}

const gauge = async (): Promise<number> => (await blockedImagesInUse.get()).values[0]?.value ?? 0;

t.test('FerryRewrote: once per pod uid, across status updates, replicas and restarts; kubectl describe pod shows it', async (t) => {
  const s = await setup(t);
  const ce = s.start();
  const web = s.k.api.apply(pod('web', { rewritten: { app: 'nginx:1.27', cache: 'redis:7' } }));
  s.pods.put(web);
  s.pods.put(s.k.api.apply(pod('plain', { images: { app: 'nginx:1.27' } })));
  const [ev, ...more] = await s.events('FerryRewrote');
  t.same(more, [], 'only the rewritten pod');
  t.match(ev, {
    type: 'Normal',
    count: 1,
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'shop', uid: web.metadata!.uid },
    message: `ferry rewrote 2 images to the mirror: app: ${NGINX} -> mirror.local:5000/${NGINX}; cache: ${REDIS7} -> mirror.local:5000/${REDIS7}`,
  });
  t.ok((await s.conn.ttl(clusterEventKeys(s.prefix).rewrote(web.metadata!.uid!))) > 6 * 24 * 3600, 'claimed in Redis with a TTL');

  s.pods.put(s.k.api.apply(pod('web', { rewritten: { app: 'nginx:1.27', cache: 'redis:7' }, digest: D1 }))); // the kubelet reports digests
  const replica = startClusterEvents({ tracker: s.pods, recorder: s.recorder, config: () => s.config.current, records: { get: () => undefined }, redis: s.conn, prefix: s.prefix, logger: createLogger('silent') });
  t.teardown(() => replica.close());
  await replica.idle();
  await ce.close();
  s.start(); // a restart: the tracker's view replayed
  t.equal((await s.events('FerryRewrote')).length, 1, 'still one Event, count 1');
  t.equal((await s.events('FerryRewrote'))[0]?.count, 1);

  s.pods.del('shop', 'web');
  s.k.api.remove('Pod', 'shop', 'web');
  const again = s.k.api.apply(pod('web', { rewritten: { app: 'nginx:1.27' } })); // the same name, a new pod
  s.pods.put(again);
  const both = await s.events('FerryRewrote');
  t.equal(both.length, 2, 'a new uid is a new pod');
  const described = await s.k.kubectl('describe', 'pod', 'web', '-n', 'shop');
  t.match(described, new RegExp(`Normal\\s+FerryRewrote\\s+\\S+\\s+ferry\\s+ferry rewrote an image to the mirror: app: ${NGINX} -> mirror\\.local:5000/${NGINX}`));
  t.equal(described.match(/FerryRewrote/g)?.length, 1, 'describe shows the Event of this pod only');
});

t.test('FerryBlockedImageInUse: by pattern and digest, per pod and image, gauge of distinct blocked images', async (t) => {
  const s = await setup(t, { block: [{ pattern: 'docker.io/library/nginx:*', reason: 'CVE-2026-0001' }, { digest: D1, reason: 'known bad build' }] });
  s.start();
  t.equal(await gauge(), 0);
  s.pods.put(s.k.api.apply(pod('a', { images: { app: 'nginx:1.27', side: 'busybox:1.36' } })));
  s.pods.put(s.k.api.apply(pod('b', { images: { web: 'nginx:1.27' } })));
  s.pods.put(s.k.api.apply(pod('c', { images: { cache: 'redis:7' }, digest: D1 })));
  s.pods.put(s.k.api.apply(pod('d', { images: { cache: 'redis:7' } })));
  const evs = await s.events('FerryBlockedImageInUse');
  t.same(
    evs.map((e) => [e.involvedObject.name, e.type, e.message]).sort(),
    [
      ['a', 'Warning', `image ${NGINX} (app) is blocked now: CVE-2026-0001`],
      ['b', 'Warning', `image ${NGINX} (web) is blocked now: CVE-2026-0001`],
      ['c', 'Warning', `image ${REDIS7} (cache) is blocked now: known bad build`],
    ],
  );
  t.equal(await gauge(), 2, 'nginx and redis (by the digest pod c runs)');
  s.pods.put(s.k.api.apply(pod('a', { images: { app: 'nginx:1.27', side: 'busybox:1.36' }, digest: `sha256:${'9'.repeat(64)}` })));
  t.equal((await s.events('FerryBlockedImageInUse')).length, 3, 'a status update says nothing new');
  s.pods.del('shop', 'c');
  t.equal(await gauge(), 1);
  s.pods.del('shop', 'a');
  s.pods.del('shop', 'b');
  t.equal(await gauge(), 0);
});

t.test('a config reload that blocks an image in use: the pods running it get the Warning; lifting it clears the gauge', async (t) => {
  const s = await setup(t);
  const ce = s.start();
  s.pods.put(s.k.api.apply(pod('a', { images: { app: 'nginx:1.27' } })));
  s.pods.put(s.k.api.apply(pod('b', { images: { app: 'redis:7' } })));
  t.equal((await s.events('FerryBlockedImageInUse')).length, 0);
  s.config.current = resolveConfig({ mirror: MIRROR, block: [{ pattern: 'docker.io/library/nginx:*', reason: 'retired' }] }).config;
  ce.onConfigChange();
  t.equal(await gauge(), 1);
  t.equal(ce.blockedInUse, 1);
  t.match(await s.events('FerryBlockedImageInUse'), [{ involvedObject: { name: 'a' }, message: /retired/ }]);
  s.config.current = resolveConfig({ mirror: MIRROR }).config;
  ce.onConfigChange();
  t.equal(await gauge(), 0);
  s.config.current = resolveConfig({ mirror: MIRROR, block: [{ pattern: 'docker.io/library/nginx:*', reason: 'retired' }] }).config;
  ce.onConfigChange();
  const after = await s.events('FerryBlockedImageInUse');
  t.equal(after.length, 1, 'once per pod and image');
  t.equal(after[0]?.count, 1);

  s.config.current = resolveConfig({ mirror: MIRROR, block: [{ pattern: '**', reason: 'all' }], kubernetes: { events: false } }).config;
  ce.onConfigChange();
  t.equal(await gauge(), 2, 'kubernetes.events off: the gauge still counts');
  t.equal((await s.events('FerryBlockedImageInUse')).length, 1, 'but no Event is written');
});

t.test('a record that becomes blocked (RecordFeed): its pods get the Warning', async (t) => {
  const s = await setup(t);
  const store = new ImageStore(s.conn, s.prefix);
  const sub = connectRedis(redis.url);
  t.teardown(() => sub.disconnect());
  const feed = new RecordFeed(store, sub);
  t.teardown(() => feed.close());
  await feed.start();
  s.start({ records: feed });
  s.pods.put(s.k.api.apply(pod('a', { images: { cache: 'redis:7' } })));
  t.equal(await gauge(), 0);
  const seen = once(feed, 'event');
  await store.update(REDIS7, { state: 'blocked', blockedReason: 'blocked by an operator (dashboard)' }, { upsert: true });
  await seen;
  t.equal(await gauge(), 1);
  t.match(await s.events('FerryBlockedImageInUse'), [{ involvedObject: { name: 'a' }, message: `image ${REDIS7} (cache) is blocked now: blocked by an operator (dashboard)` }]);
  const unblocked = once(feed, 'event');
  await store.update(REDIS7, { state: 'mirrored', blockedReason: null });
  await unblocked;
  t.equal(await gauge(), 0);
});

t.test('Redis away: nothing is said twice or lost, the Event follows once Redis is back', async (t) => {
  const own = await startRedis();
  t.teardown(() => own.stop());
  const { logger } = captureLogger();
  const s = await setup(t, {}, own);
  const ce = s.start({ logger });
  await own.kill();
  s.pods.put(s.k.api.apply(pod('web', { rewritten: { app: 'nginx:1.27' } })));
  await new Promise((r) => setTimeout(r, 200));
  await s.recorder.flush();
  t.equal(coreEvents(s.k.api).length, 0, 'no claim, no Event');
  await own.start();
  await ce.idle();
  t.equal((await s.events('FerryRewrote')).length, 1, 'the claim went through after the reconnect');
});

t.test('with the real pod tracker against the stand-in', async (t) => {
  const k = await standIn(t);
  const conn = connectRedis(redis.url);
  t.teardown(() => conn.disconnect());
  const prefix = `ce${++prefixes}`;
  const tracker = startPodTracker({ kube: k.client, store: new InUseStore(conn, prefix), mirror: () => MIRROR, logger: createLogger('silent'), heartbeatMs: 60_000 });
  t.teardown(() => tracker.close());
  const typed: PodSource = tracker; // the structural contract is the tracker's
  const recorder = createEventRecorder(k.client, createLogger('silent'), { flushIntervalMs: 60_000 });
  t.teardown(() => recorder.close(200));
  const config = resolveConfig({ mirror: MIRROR, block: [{ pattern: 'docker.io/library/busybox:*', reason: 'no shells' }] }).config;
  const web = k.api.apply(pod('web', { rewritten: { app: 'nginx:1.27' } }));
  const ce = startClusterEvents({ tracker: typed, recorder, config: () => config, records: { get: () => undefined }, redis: conn, prefix, logger: createLogger('silent') });
  t.teardown(() => ce.close());
  await once(tracker, 'synced');
  const changed = once(tracker, 'change');
  const debug = k.api.apply(pod('debug', { images: { sh: 'busybox:1.36' } }));
  await changed;
  await ce.idle();
  await recorder.flush();
  const evs = coreEvents(k.api, 'shop');
  t.match(
    evs.map((e) => `${e.reason} ${e.involvedObject.name} ${e.involvedObject.uid}`).sort(),
    [`FerryBlockedImageInUse debug ${debug.metadata!.uid}`, `FerryRewrote web ${web.metadata!.uid}`],
  );
  t.equal(ce.blockedInUse, 1);
  t.match(await k.kubectl('describe', 'pod', 'debug', '-n', 'shop'), /Warning\s+FerryBlockedImageInUse\s+\S+\s+ferry\s+image docker\.io\/library\/busybox:1\.36 \(sh\) is blocked now: no shells/);
  const gone = once(tracker, 'change');
  k.api.remove('Pod', 'shop', 'debug');
  await gone;
  t.equal(ce.blockedInUse, 0);
  t.equal(await gauge(), 0);
});

import t, { type Test } from 'tap';
import { startRedis } from '../support/redis.js';
import { connectRedis, ImageStore, RecordFeed, StateView, type ImageEvent, type ImageRecord } from '../../src/queue/index.js';
import { ImageIndex } from '../../src/dashboard/image-index.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

async function setup(t: Test, prefix: string) {
  const conn = connectRedis(redis.url);
  const sub = connectRedis(redis.url);
  const store = new ImageStore(conn, prefix);
  const feed = new RecordFeed(store, sub);
  t.teardown(async () => {
    await feed.close();
    sub.disconnect();
    conn.disconnect();
  });
  return { store, feed };
}

/** The next event the feed applies for `ref` matching `pred`. */
function next(feed: RecordFeed, pred: (ev: ImageEvent) => boolean): Promise<[ImageEvent, ImageRecord | undefined]> {
  return new Promise((resolve) => {
    const on = (ev: ImageEvent, prev: ImageRecord | undefined) => {
      if (!pred(ev)) return;
      feed.off('event', on);
      resolve([ev, prev]);
    };
    feed.on('event', on);
  });
}

t.test('one feed serves the webhook view and the dashboard index, both current from Redis', async (t) => {
  const { store, feed } = await setup(t, 'shared');
  await store.update('docker.io/library/a:1', { mirrorRef: 'm/a', state: 'mirrored', mirroredAt: new Date().toISOString() }, { upsert: true });
  const view = new StateView(feed);
  const index = new ImageIndex(feed);
  await feed.start();
  t.ok(view.isAvailable('docker.io/library/a:1'), 'loaded at start');
  t.equal(index.counts().mirrored, 1);

  const queued = next(feed, (ev) => ev.ref === 'docker.io/library/b:1');
  view.noteQueued('docker.io/library/b:1');
  t.match(view.get('docker.io/library/b:1'), { state: 'queued' }, 'local echo before Redis answers');
  t.equal(index.get('docker.io/library/b:1'), undefined, 'the echo is the webhook view only');
  await store.update('docker.io/library/b:1', { mirrorRef: 'm/b', state: 'copying' }, { upsert: true });
  await queued;
  t.match(view.get('docker.io/library/b:1'), { state: 'copying', mirrorRef: 'm/b' }, 'Redis wins over the echo');
  t.same({ copying: index.counts().copying, size: index.size }, { copying: 1, size: 2 });

  // progress: the record is updated in place, listeners see the values from before
  const tick = next(feed, (ev) => ev.type === 'progress');
  await store.progress('docker.io/library/b:1', 300, 1000);
  const [ev, prev] = await tick;
  t.match(ev, { bytesDone: 300 });
  t.equal(prev?.bytesDone, 0, 'prev holds the value before the tick');
  t.equal(feed.get('docker.io/library/b:1')?.bytesDone, 300);

  const gone = next(feed, (e) => e.type === 'removed');
  await store.remove('docker.io/library/a:1');
  await gone;
  t.notOk(view.get('docker.io/library/a:1'));
  t.same({ mirrored: index.counts().mirrored, size: index.size }, { mirrored: 0, size: 1 });
});

t.test('events that arrive during a reload are replayed on top of the snapshot, stale ones dropped', async (t) => {
  const { store, feed } = await setup(t, 'race');
  await store.update('r/kept:1', { mirrorRef: 'm', state: 'mirrored' }, { upsert: true });
  await store.update('r/gone:1', { mirrorRef: 'm', state: 'mirrored' }, { upsert: true });
  await feed.start();
  const index = new ImageIndex(feed);
  const snapshotTime = feed.get('r/kept:1')!.updatedAt;
  const reloaded = feed.reload();
  // these land while the snapshot is being read
  feed.apply({ type: 'state', ref: 'r/kept:1', record: { ...feed.get('r/kept:1')!, state: 'error', updatedAt: '2000-01-01T00:00:00.000Z' } });
  feed.apply({ type: 'state', ref: 'r/new:1', record: { ...feed.get('r/kept:1')!, ref: 'r/new:1', state: 'queued', updatedAt: new Date(Date.parse(snapshotTime) + 1000).toISOString() } });
  feed.apply({ type: 'removed', ref: 'r/gone:1' });
  t.ok(feed.get('r/gone:1'), 'buffered, not applied yet');
  await reloaded;
  t.match(feed.get('r/kept:1'), { state: 'mirrored' }, 'an event older than the snapshot is dropped');
  t.match(feed.get('r/new:1'), { state: 'queued' });
  t.equal(feed.get('r/gone:1'), undefined);
  t.same({ mirrored: index.counts().mirrored, queued: index.counts().queued, size: index.size }, { mirrored: 1, queued: 1, size: 2 });
});

t.test('started while its subscriber is still in the handshake, the feed still loads and follows events', async (t) => {
  const conn = connectRedis(redis.url);
  const sub = connectRedis(redis.url, { lazyConnect: true });
  const store = new ImageStore(conn, 'handshake');
  await store.update('docker.io/library/h:1', { mirrorRef: 'm/h', state: 'mirrored', mirroredAt: new Date().toISOString() }, { upsert: true });
  const feed = new RecordFeed(store, sub);
  t.teardown(async () => {
    await feed.close();
    sub.disconnect();
    conn.disconnect();
  });
  // 'connect' fires with the socket open and the ready check not yet answered: the window where SUBSCRIBE looped
  const started = new Promise<void>((resolve, reject) => sub.once('connect', () => feed.start().then(resolve, reject)));
  await sub.connect();
  await started;
  t.equal(sub.status, 'ready', 'the subscriber connection settled (no reconnect loop)');
  t.ok(new StateView(feed).isAvailable('docker.io/library/h:1'), 'loaded');
  const ev = next(feed, (e) => e.ref === 'docker.io/library/h:2');
  await store.update('docker.io/library/h:2', { mirrorRef: 'm/h2', state: 'queued' }, { upsert: true });
  t.match((await ev)[0], { ref: 'docker.io/library/h:2' }, 'a live event arrives');
});

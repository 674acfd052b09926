/**
 * Retention end to end: real copies into a real mirror, `keep: N` deletes the
 * oldest manifests by digest, spares digests other records use, and survives
 * a mirror that refuses deletes.
 */
import t from 'tap';
import { parseReference, repositoryOf } from '../../src/reference/index.js';
import type { WatchView } from '../../src/watch/index.js';
import { inspectRaw } from '../support/images.js';
import { harness, push } from './support/env.js';
import { api, polled, retained, startE2E } from './support/e2e.js';

const { redis, upstream, mirror, refusing, watch, stop } = await startE2E();
t.teardown(stop);

// Subtests use their own repositories and queue prefixes: run them side by side.
t.jobs = 4;

t.test('keep: 2 with three versions deletes the oldest manifest from the mirror', async (t) => {
  const repo = 'demo/kept';
  const h = await harness({ redisUrl: redis.url, mirror, prefix: 'kept', watch: [watch('kept', repo, { constraint: '>=1', keep: 2 })] });
  t.teardown(() => h.close());
  const v1 = await push(upstream, repo, '1.0.0');
  const first = polled(h, 'kept');
  await h.watcher.start();
  t.match(await first, { result: 'initial', selected: { tag: '1.0.0' } });
  await h.mirrored(v1.ref, v1.image.digest);

  const v2 = await push(upstream, repo, '1.1.0');
  t.match((await api(`${h.url}/api/watches/kept/poll`, 'POST')).body, { result: 'new-tag', selected: { tag: '1.1.0' } });
  await h.mirrored(v2.ref, v2.image.digest);

  const v3 = await push(upstream, repo, '1.2.0');
  const deleted = retained(h, 'kept', (r) => r.deleted.length > 0);
  t.match((await api(`${h.url}/api/watches/kept/poll`, 'POST')).body, { result: 'new-tag', selected: { tag: '1.2.0' } });
  await h.mirrored(v3.ref, v3.image.digest);
  const report = await deleted;
  t.same(report.deleted, [v1.image.digest]);
  t.same(report.held.sort(), [v2.image.digest, v3.image.digest].sort());

  const mirrorRepo = repositoryOf(parseReference(h.mirrorRefOf(v1.ref)));
  t.equal(await inspectRaw(h.mirrorRefOf(v1.ref)), undefined, '1.0.0 is gone from the mirror');
  t.equal(await inspectRaw(`${mirrorRepo}@${v1.image.digest}`), undefined, 'its manifest too');
  t.equal((await inspectRaw(h.mirrorRefOf(v2.ref)))?.digest, v2.image.digest, '1.1.0 stays');
  t.equal((await inspectRaw(h.mirrorRefOf(v3.ref)))?.digest, v3.image.digest, '1.2.0 stays');
  t.equal(await h.store.get(v1.ref), undefined, 'the record of the deleted image is dropped (admission would rewrite to a missing image)');
  const view = (await api<WatchView>(`${h.url}/api/watches/kept`)).body;
  t.match(view.retention, { keep: 2, deletedTotal: 1, deleteDisabled: false, lastError: null, protected: [] });
  const held = (await api(`${h.url}/api/watches/kept/history`)).body.held as { tag: string; deletedAt: string | null }[];
  t.same(held.map((e) => [e.tag, e.deletedAt === null]), [['1.2.0', true], ['1.1.0', true], ['1.0.0', false]]);
});

t.test('retention spares a digest another image record still uses', async (t) => {
  const repo = 'demo/pinned';
  const h = await harness({ redisUrl: redis.url, mirror, prefix: 'pinned', watch: [watch('pinned', `${repo}:stable`, { strategy: 'digest', keep: 1 })] });
  t.teardown(() => h.close());
  const a = await push(upstream, repo, 'stable');
  const first = polled(h, 'pinned');
  await h.watcher.start();
  await first;
  await h.mirrored(a.ref, a.image.digest);
  // A pod pins the old digest: admission made a record for it.
  const pinnedRef = `${upstream.host}/${repo}@${a.image.digest}`;
  await h.store.update(pinnedRef, { state: 'mirrored', mirrorRef: h.mirrorRefOf(pinnedRef), digest: a.image.digest, mirroredAt: new Date().toISOString(), source: 'admission' }, { upsert: true });

  const b = await push(upstream, repo, 'stable');
  const spared = retained(h, 'pinned', (r) => r.protected.length > 0);
  t.match((await api(`${h.url}/api/watches/pinned/poll`, 'POST')).body, { result: 'moved' });
  await h.mirrored(a.ref, b.image.digest);
  const report = await spared;
  t.same(report.protected, [a.image.digest]);
  t.same(report.deleted, []);
  const mirrorRepo = repositoryOf(parseReference(h.mirrorRefOf(a.ref)));
  t.ok(await inspectRaw(`${mirrorRepo}@${a.image.digest}`), 'the pinned manifest stays');
  t.match((await api<WatchView>(`${h.url}/api/watches/pinned`)).body.retention, { keep: 1, protected: [a.image.digest], deletedTotal: 0 });
});

t.test('a mirror that refuses deletes is reported, not fatal', async (t) => {
  const repo = 'demo/refused';
  const h = await harness({ redisUrl: redis.url, mirror: refusing, prefix: 'refused', watch: [watch('refused', `${repo}:stable`, { strategy: 'digest', keep: 1 })] });
  t.teardown(() => h.close());
  const a = await push(upstream, repo, 'stable');
  const first = polled(h, 'refused');
  await h.watcher.start();
  await first;
  await h.mirrored(a.ref, a.image.digest);
  const b = await push(upstream, repo, 'stable');
  const refused = retained(h, 'refused', (r) => r.refused);
  t.match((await api(`${h.url}/api/watches/refused/poll`, 'POST')).body, { result: 'moved' });
  await h.mirrored(a.ref, b.image.digest);
  const report = await refused;
  t.same(report.deleted, []);
  t.match(report.errors[0], /FERRY_ERR_REGISTRY_DELETE_DISABLED|delete/i);
  const view = (await api<WatchView>(`${h.url}/api/watches/refused`)).body;
  t.match(view.retention, { keep: 1, deleteDisabled: true, lastError: /storage\.delete\.enabled/ });
  t.equal(view.error, null, 'the poll itself is fine');
  const mirrorRepo = repositoryOf(parseReference(h.mirrorRefOf(a.ref)));
  t.ok(await inspectRaw(`${mirrorRepo}@${a.image.digest}`), 'nothing was deleted');
  t.match((await api(`${h.url}/api/watches/refused/poll`, 'POST')).body, { result: 'unchanged' }, 'the watcher keeps working');
});

/**
 * End to end against real registries: upstream pushes (skopeo), the watcher
 * polls, real copy workers fill the mirror, retention deletes from it.
 */
import t from 'tap';
import type { WatchConfig } from '../../src/config/index.js';
import { parseReference, repositoryOf } from '../../src/reference/index.js';
import type { PollReport, RetentionReport, WatchView } from '../../src/watch/index.js';
import { inspectRaw } from '../support/images.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import { cleanupLayouts, harness, nextEvent, push } from './support/env.js';

const [redis, upstream, mirror, refusing] = await Promise.all([startRedis(), startRegistry(), startRegistry(), startRegistry({ deleteEnabled: false })]);
t.teardown(async () => {
  await Promise.all([redis.stop(), upstream.stop(), mirror.stop(), refusing.stop()]);
  cleanupLayouts();
});

const YEARLY = '0 0 1 1 *';
const watch = (id: string, repo: string, extra: Partial<WatchConfig>): WatchConfig => ({
  id,
  image: `${upstream.host}/${repo}`,
  strategy: 'semver',
  schedule: YEARLY,
  ...extra,
});

async function api<T = any>(url: string, method = 'GET', body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const polled = (w: { watcher: NodeJS.EventEmitter }, id: string, pred: (r: PollReport) => boolean = () => true) =>
  nextEvent<PollReport>(w.watcher, 'polled', (r) => r.id === id && pred(r));
const retained = (w: { watcher: NodeJS.EventEmitter }, id: string, pred: (r: RetentionReport) => boolean) =>
  nextEvent<RetentionReport>(w.watcher, 'retained', (r) => r.id === id && pred(r));

t.test('a new semver tag upstream is selected and mirrored', async (t) => {
  const repo = 'demo/semver';
  const v1 = await push(upstream, repo, '1.0.0');
  await push(upstream, repo, 'latest');
  const h = await harness({ redisUrl: redis.url, mirror, prefix: 'semver', watch: [watch('app', repo, { constraint: '^1' })] });
  t.teardown(() => h.close());

  const first = polled(h, 'app');
  await h.watcher.start();
  t.match(await first, { trigger: 'start', result: 'initial', selected: { tag: '1.0.0', digest: v1.image.digest } });
  await h.mirrored(v1.ref, v1.image.digest);
  t.equal((await inspectRaw(h.mirrorRefOf(v1.ref)))?.digest, v1.image.digest, 'the mirror has 1.0.0');

  const v2 = await push(upstream, repo, '1.1.0');
  await push(upstream, repo, '2.0.0'); // outside ^1
  const res = await api<PollReport>(`${h.url}/api/watches/app/poll`, 'POST');
  t.equal(res.status, 200);
  t.match(res.body, {
    trigger: 'api',
    result: 'new-tag',
    selected: { tag: '1.1.0', digest: v2.image.digest },
    change: { kind: 'new-tag', tag: '1.1.0', previousTag: '1.0.0', oldDigest: v1.image.digest, newDigest: v2.image.digest, ref: v2.ref, mirrorRef: h.mirrorRefOf(v2.ref) },
  });
  const rec = await h.mirrored(v2.ref, v2.image.digest);
  t.match(rec, { source: 'watch', mirrorRef: h.mirrorRefOf(v2.ref) });
  t.equal((await inspectRaw(h.mirrorRefOf(v2.ref)))?.digest, v2.image.digest, 'the mirror has 1.1.0');

  t.match((await api(`${h.url}/api/watches/app/poll`, 'POST')).body, { result: 'unchanged', selected: { tag: '1.1.0' } });
  const list = (await api<{ watches: WatchView[] }>(`${h.url}/api/watches`)).body.watches;
  t.match(list, [{ id: 'app', source: 'config', lastResult: 'unchanged', selected: { tag: '1.1.0', digest: v2.image.digest }, error: null, polls: 3 }]);
  t.ok(Date.parse(list[0]!.nextPollAt!) > Date.now() + 24 * 3600_000, 'next poll is the yearly schedule');
});

t.test('a re-pushed tag is detected as moved and re-mirrored; history shows both digests', async (t) => {
  const repo = 'demo/moving';
  const a = await push(upstream, repo, 'stable');
  const h = await harness({ redisUrl: redis.url, mirror, prefix: 'moving', watch: [watch('moving', `${repo}:stable`, { strategy: 'digest' })] });
  t.teardown(() => h.close());
  const first = polled(h, 'moving');
  await h.watcher.start();
  t.match(await first, { result: 'initial', selected: { tag: 'stable', digest: a.image.digest } });
  await h.mirrored(a.ref, a.image.digest);

  const b = await push(upstream, repo, 'stable');
  t.not(b.image.digest, a.image.digest);
  const bothHeld = retained(h, 'moving', (r) => r.held.length === 2);
  const res = await api<PollReport>(`${h.url}/api/watches/moving/poll`, 'POST');
  t.match(res.body, { result: 'moved', change: { kind: 'moved', tag: 'stable', oldDigest: a.image.digest, newDigest: b.image.digest } });
  await h.mirrored(a.ref, b.image.digest);
  t.equal((await inspectRaw(h.mirrorRefOf(a.ref)))?.digest, b.image.digest, 'the mirror tag follows');
  await bothHeld;

  const hist = (await api(`${h.url}/api/watches/moving/history`)).body;
  t.match(hist.events, [
    { kind: 'moved', tag: 'stable', oldDigest: a.image.digest, newDigest: b.image.digest },
    { kind: 'initial', tag: 'stable', oldDigest: null, newDigest: a.image.digest },
  ]);
  t.same(
    hist.held.map((e: { tag: string; digest: string; deletedAt: string | null }) => [e.tag, e.digest, e.deletedAt]),
    [
      ['stable', b.image.digest, null],
      ['stable', a.image.digest, null],
    ],
    'the mirror held both digests for the tag, newest first',
  );
  const mirrorRepo = repositoryOf(parseReference(h.mirrorRefOf(a.ref)));
  t.ok(await inspectRaw(`${mirrorRepo}@${a.image.digest}`), 'without keep the old manifest stays in the mirror');
});

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

t.test('newest: by config created time, with the answer cache by tag or by digest', async (t) => {
  const repo = 'demo/newest';
  await push(upstream, repo, 'a', '2020-01-01T00:00:00Z');
  const b = await push(upstream, repo, 'b', '2024-01-01T00:00:00Z');
  await push(upstream, repo, 'c', '2022-01-01T00:00:00Z');
  await push(upstream, repo, 'skip', '2030-01-01T00:00:00Z');
  const h = await harness({
    redisUrl: redis.url,
    mirror,
    prefix: 'newest',
    workers: false,
    watch: [
      watch('by-tag', repo, { strategy: 'newest', ignoreTags: ['skip'] }),
      watch('by-digest', repo, { strategy: 'newest', ignoreTags: ['skip'], cacheBy: 'digest' }),
    ],
  });
  t.teardown(() => h.close());
  const p1 = polled(h, 'by-tag');
  const p2 = polled(h, 'by-digest');
  await h.watcher.start();
  t.match(await p1, { result: 'initial', selected: { tag: 'b', digest: b.image.digest }, configFetches: 3 });
  t.match(await p2, { result: 'initial', selected: { tag: 'b' }, configFetches: 3 });
  t.match(await h.watcher.poll('by-tag', 'api'), { result: 'unchanged', configFetches: 0 }, 'cached by tag');
  t.match(await h.watcher.poll('by-digest', 'api'), { result: 'unchanged', configFetches: 0 }, 'cached by digest');

  // `a` is rebuilt and re-pushed: only the digest cache sees that it is now the newest.
  const a2 = await push(upstream, repo, 'a', '2025-01-01T00:00:00Z');
  t.match(await h.watcher.poll('by-tag', 'api'), { result: 'unchanged', selected: { tag: 'b' }, configFetches: 0 }, 'tag cache assumes immutable tags');
  t.match(await h.watcher.poll('by-digest', 'api'), { result: 'new-tag', selected: { tag: 'a', digest: a2.image.digest }, configFetches: 1 });
});

/**
 * End to end against real registries: upstream pushes (skopeo), the watcher
 * polls, real copy workers fill the mirror, retention deletes from it.
 */
import t from 'tap';
import { parseReference, repositoryOf } from '../../src/reference/index.js';
import type { PollReport, WatchView } from '../../src/watch/index.js';
import { inspectRaw } from '../support/images.js';
import { harness, push } from './support/env.js';
import { api, polled, retained, startE2E } from './support/e2e.js';

const { redis, upstream, mirror, watch, stop } = await startE2E();
t.teardown(stop);

// Subtests use their own repositories and queue prefixes: run them side by side.
t.jobs = 4;

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

/**
 * Retention (`keep`) never deletes what runs: with the in-use index, a
 * digest a pod runs (or ran within gc.keepUnusedFor) stays past `keep`, even
 * when the watch owns its record, and with the pod watch not live nothing
 * is deleted at all. Real copies into a real mirror; a clock the test moves
 * drives the index's last-seen times.
 */
import t from 'tap';
import type { Test } from 'tap';
import { InUseStore } from '../../src/in-use/index.js';
import { connectRedis } from '../../src/queue/index.js';
import { parseReference, repositoryOf } from '../../src/reference/index.js';
import type { RoleContext } from '../../src/runtime/index.js';
import type { WatchView } from '../../src/watch/index.js';
import { startClusterView } from '../../src/watch/cluster.js';
import { inspectRaw } from '../support/images.js';
import { harness, logger, push, testConfig } from './support/env.js';
import { api, polled, retained, startE2E } from './support/e2e.js';

const { redis, upstream, mirror, watch, stop } = await startE2E();
t.teardown(stop);
t.jobs = 2;

const H = 3_600_000;

/** An index on its own prefix with a clock the test moves. */
function index(t: Test, prefix: string) {
  const conn = connectRedis(redis.url);
  t.teardown(() => conn.disconnect());
  const clock = { ms: Date.now() };
  const inUse = new InUseStore(conn, prefix, () => clock.ms);
  return { inUse, clock, live: () => inUse.heartbeat(10 * 60_000, { synced: true }) };
}

t.test('keep: 1 keeps an old digest while a pod runs it, and deletes it once the pod is gone for keepUnusedFor', async (t) => {
  const repo = 'demo/running';
  const { inUse, clock, live } = index(t, 'running');
  const h = await harness({ redisUrl: redis.url, mirror, prefix: 'running', inUse, watch: [watch('running', `${repo}:stable`, { strategy: 'digest', keep: 1 })] });
  t.teardown(() => h.close());
  const a = await push(upstream, repo, 'stable');
  const first = polled(h, 'running');
  await h.watcher.start();
  await first;
  await h.mirrored(a.ref, a.image.digest);
  t.equal((await h.store.get(a.ref))?.source, 'watch', 'the watch owns the record');
  const mirrorRepo = repositoryOf(parseReference(h.mirrorRefOf(a.ref)));
  // rewrite.pinDigest: the pod runs mirror@digest; the index maps it back to the tag and names the digest
  await inUse.setPod('shop', 'web', [
    { namespace: 'shop', pod: 'web', container: 'app', list: 'containers', node: 'n1', image: `${mirrorRepo}@${a.image.digest}`, ref: a.ref, digest: a.image.digest, rewritten: true },
  ]);
  await live();

  const b = await push(upstream, repo, 'stable');
  const spared = retained(h, 'running', (r) => r.protected.includes(a.image.digest));
  t.match((await api(`${h.url}/api/watches/running/poll`, 'POST')).body, { result: 'moved' });
  await h.mirrored(a.ref, b.image.digest);
  const report = await spared;
  t.same(report.deleted, []);
  t.match(report.reasons[a.image.digest], /runs in 1 pod/);
  t.ok(await inspectRaw(`${mirrorRepo}@${a.image.digest}`), 'the running digest stays in the mirror');
  t.match((await api<WatchView>(`${h.url}/api/watches/running`)).body.retention, { keep: 1, protected: [a.image.digest], skipped: null });

  await inUse.removePod('shop', 'web');
  clock.ms += H;
  await live();
  let again = await h.watcher.retain('running');
  t.same(again?.deleted, [], 'ran an hour ago: within gc.keepUnusedFor');
  t.match(again?.reasons[a.image.digest], /ran until/);

  clock.ms += 168 * H;
  await live();
  again = await h.watcher.retain('running');
  t.same(again?.deleted, [a.image.digest], 'gone for longer than gc.keepUnusedFor (168h): deleted');
  t.equal(await inspectRaw(`${mirrorRepo}@${a.image.digest}`), undefined);
  t.equal((await inspectRaw(h.mirrorRefOf(a.ref)))?.digest, b.image.digest, 'the current digest stays');
});

t.test('with the pod watch not live, retention deletes nothing and says why', async (t) => {
  const repo = 'demo/blind';
  const { inUse, live } = index(t, 'blind');
  const h = await harness({ redisUrl: redis.url, mirror, prefix: 'blind', inUse, watch: [watch('blind', `${repo}:stable`, { strategy: 'digest', keep: 1 })] });
  t.teardown(() => h.close());
  const a = await push(upstream, repo, 'stable');
  const first = polled(h, 'blind');
  await h.watcher.start();
  await first;
  await h.mirrored(a.ref, a.image.digest);
  const b = await push(upstream, repo, 'stable');
  const skipped = retained(h, 'blind', (r) => r.skipped !== null);
  t.match((await api(`${h.url}/api/watches/blind/poll`, 'POST')).body, { result: 'moved' });
  await h.mirrored(a.ref, b.image.digest);
  const report = await skipped;
  t.same(report.deleted, []);
  t.match(report.skipped, /not synced yet.*cannot tell what runs/);
  const mirrorRepo = repositoryOf(parseReference(h.mirrorRefOf(a.ref)));
  t.ok(await inspectRaw(`${mirrorRepo}@${a.image.digest}`), 'nothing was deleted');
  t.match((await api<WatchView>(`${h.url}/api/watches/blind`)).body.retention, { skipped: /not synced yet/ });

  await live(); // the pod watch syncs: no pod ever ran the old digest
  const after = await h.watcher.retain('blind');
  t.same(after?.deleted, [a.image.digest]);
  t.equal(after?.skipped, null);
  t.equal(await inspectRaw(`${mirrorRepo}@${a.image.digest}`), undefined);
  t.match((await api<WatchView>(`${h.url}/api/watches/blind`)).body.retention, { skipped: null, deletedTotal: 1 });
});

t.test('keep: 1 keeps the digest of a tag a pod names but does not run yet (pending, pulling)', async (t) => {
  const repo = 'demo/pending';
  const { inUse, live } = index(t, 'pending');
  const h = await harness({ redisUrl: redis.url, mirror, prefix: 'pending', inUse, watch: [watch('pending', repo, { constraint: '>=1', keep: 1 })] });
  t.teardown(() => h.close());
  const v1 = await push(upstream, repo, '1.0.0');
  const first = polled(h, 'pending');
  await h.watcher.start();
  await first;
  await h.mirrored(v1.ref, v1.image.digest);
  // Admission rewrote the pod to mirror:1.0.0; it is not scheduled yet, so its status names no digest.
  await inUse.setPod('shop', 'late', [
    { namespace: 'shop', pod: 'late', container: 'app', list: 'containers', node: null, image: h.mirrorRefOf(v1.ref), ref: v1.ref, digest: null, rewritten: true },
  ]);
  await live();

  const v2 = await push(upstream, repo, '1.1.0');
  const spared = retained(h, 'pending', (r) => r.protected.includes(v1.image.digest));
  t.match((await api(`${h.url}/api/watches/pending/poll`, 'POST')).body, { result: 'new-tag', selected: { tag: '1.1.0' } });
  await h.mirrored(v2.ref, v2.image.digest);
  const report = await spared;
  t.same(report.deleted, []);
  t.match(report.reasons[v1.image.digest], /is named by 1 pod/);
  t.equal((await inspectRaw(h.mirrorRefOf(v1.ref)))?.digest, v1.image.digest, 'the tag the pod will pull stays');
  t.ok(await h.store.get(v1.ref), 'and its record');
});

t.test('a cluster is configured but its client config cannot be loaded: the shared index is still read, so nothing is deleted blind', async (t) => {
  const conns: ReturnType<typeof connectRedis>[] = [];
  t.teardown(() => conns.forEach((c) => c.disconnect()));
  const config = testConfig({ mirror: mirror.host, prefix: 'badkube' });
  const ctx = {
    config: () => config,
    logger,
    redis: () => {
      const c = connectRedis(redis.url);
      conns.push(c);
      return c;
    },
    kube: async () => {
      throw new Error('ENOENT: no such file or directory, open /nowhere/kubeconfig');
    },
  } as unknown as RoleContext;
  const view = await startClusterView(ctx);
  t.ok(view?.inUse, 'retention and GC get the in-use index');
  t.equal((await view!.inUse.live()).live, false, 'no pod watch is live: retention and GC delete nothing');
  const other = index(t, 'badkube');
  await other.live(); // another replica's pod watch
  t.equal((await view!.inUse.live()).live, true, "another replica's live pod watch is trusted");
  await view!.close();
});

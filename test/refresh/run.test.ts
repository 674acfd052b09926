/**
 * Drift refresh end to end: real redis-server, a real upstream and mirror
 * (docker-registry), real copy workers, images pushed with skopeo, and a
 * fault-injecting proxy for the 429. `skopeo inspect --raw` is the oracle.
 */
import t from 'tap';
import type { Test } from 'tap';
import { runGc, readSuperseded } from '../../src/gc/index.js';
import { connectRedis, createQueue, Producer, type ImageRecord } from '../../src/queue/index.js';
import { parseReference, repositoryOf } from '../../src/reference/index.js';
import { refreshKeys, runRefresh, type RefreshDeps } from '../../src/refresh/index.js';
import { forgetHostGate, RegistryEngine } from '../../src/registry/index.js';
import { createWorkerPool } from '../../src/worker/index.js';
import { gcConfig, cleanupLayouts, H, logger, pushNew, scene } from '../gc/support/env.js';
import { startFaultProxy } from '../registry/support/faultproxy.js';
import { inspectRaw } from '../support/images.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';

const [redis, upstream, mirror] = await Promise.all([startRedis(), startRegistry(), startRegistry()]);
const proxy = await startFaultProxy(upstream.host);
t.teardown(async () => {
  await proxy.stop();
  await Promise.all([redis.stop(), upstream.stop(), mirror.stop()]);
  cleanupLayouts();
});
t.jobs = 3;

let prefixes = 0;

/** A scene, producer, engine and (optionally) copy workers on their own prefix. */
function setup(t: Test, o: { refresh?: Parameters<typeof gcConfig>[0]['refresh']; workers?: boolean; engineRetries?: number } = {}) {
  const prefix = `rf${++prefixes}`;
  const config = gcConfig({ mirror: mirror.host, prefix, ...(o.refresh ? { refresh: o.refresh } : {}) });
  const s = scene(redis.url, prefix, mirror.host);
  const queue = createQueue(s.conn, prefix);
  const producer = new Producer({ store: s.store, queue, maxAttempts: () => 2, bufferLimit: 1000 });
  const engine = new RegistryEngine({ config, retries: o.engineRetries ?? 0 });
  const workerConn = connectRedis(redis.url);
  const pool = o.workers ? createWorkerPool({ connection: workerConn, store: s.store, config, engine, logger, countsIntervalMs: 0, workerOpts: { lockDuration: 5000, stalledInterval: 2000 } }) : undefined;
  t.teardown(async () => {
    await pool?.close();
    await producer.close();
    await queue.close();
    await engine.close();
    workerConn.disconnect();
    s.close();
  });
  const deps = (extra: Partial<RefreshDeps> = {}): RefreshDeps => ({
    config: () => config,
    redis: s.conn,
    store: s.store,
    producer,
    engine,
    inUse: s.inUse,
    mirrorRefOf: s.mirrorRefOf,
    logger,
    now: s.now,
    ...extra,
  });
  const mirrored = async (ref: string, digest: string, timeoutMs = 20_000): Promise<ImageRecord> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await s.store.get(ref);
      if (r?.state === 'mirrored' && r.digest === digest) return r;
      if (Date.now() > until) throw new Error(`${ref} not mirrored at ${digest}: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  };
  return { s, config, producer, engine, deps, mirrored, prefix };
}

t.test('a moved tag: driftedAt, re-mirrored to the new digest, the old digest stays while a pod runs it and GC takes it after keepUnusedFor', async (t) => {
  const { s, config, producer, engine, deps, mirrored, prefix } = setup(t, { workers: true });
  const ref = `${upstream.host}/demo/drift:stable`;
  const v1 = await pushNew(ref);
  await producer.enqueueNow({ ref, mirrorRef: s.mirrorRefOf(ref), source: 'admission' });
  await mirrored(ref, v1.digest);
  await s.run('web', ref, v1.digest);
  await s.live();

  const v2 = await pushNew(ref);
  const report = await runRefresh(deps());
  t.match(report, { inUseOnly: true, skipped: null, targets: 1, checked: 1, moved: 1, deferred: 0, errors: 0 });
  t.same(report.moves, [{ ref, oldDigest: v1.digest, newDigest: v2.digest }]);
  t.equal((await s.store.get(ref))?.driftedAt, new Date(s.clock.ms).toISOString(), 'driftedAt is set');
  const after = await mirrored(ref, v2.digest);
  t.equal(after.sourceDigest, v2.digest);
  t.equal(after.source, 'admission', 'the record keeps its source');
  const mirrorRef = s.mirrorRefOf(ref);
  const repo = repositoryOf(parseReference(mirrorRef));
  t.equal((await inspectRaw(mirrorRef))?.digest, v2.digest, 'the mirror tag moved');
  t.equal((await inspectRaw(`${repo}@${v1.digest}`))?.digest, v1.digest, 'the old digest is still in the mirror');
  t.same((await readSuperseded(s.conn, prefix)).map((x) => [x.repository, x.digest, x.ref]), [[repo, v1.digest, ref]]);
  t.match(await runRefresh(deps()), { checked: 1, moved: 0 }, 'unchanged now');
  t.ok(await s.conn.get(refreshKeys(prefix).report), 'the report is stored');

  const gc = () => runGc({ config: () => config, redis: s.conn, store: s.store, inUse: s.inUse, engine, logger, now: s.now });
  let g = await gc();
  t.same([g.removed, g.protected], [[], []], 'superseded just now: not even a candidate yet');
  s.clock.ms += 169 * H;
  await s.live();
  g = await gc();
  t.match(g.protected, [{ kind: 'superseded', digest: v1.digest, reason: /runs in 1 pod/ }], 'the pod still runs the old digest');
  t.same(g.removed, []);
  await s.stop('web');
  s.clock.ms += 169 * H;
  await s.live();
  g = await gc();
  t.same(g.removed.map((i) => [i.kind, i.digest]), [['superseded', v1.digest]], 'no pod ran it for keepUnusedFor: it goes');
  t.equal(await inspectRaw(`${repo}@${v1.digest}`), undefined, 'the old manifest is gone');
  t.equal((await inspectRaw(mirrorRef))?.digest, v2.digest, 'the tag and its current manifest stay');
  t.ok(await s.store.get(ref), 'and the record');
  t.same(await readSuperseded(s.conn, prefix), [], 'the note is forgotten');
});

t.test('the per-registry budget defers the rest, least recently checked first', async (t) => {
  const { s, deps, prefix } = setup(t, { refresh: { inUseOnly: false, maxRequestsPerRegistry: 2 } });
  const refs = ['a', 'b', 'c'].map((n) => `${upstream.host}/demo/budget-${n}:1`);
  for (const ref of refs) await s.record(ref, (await pushNew(ref)).digest);
  const r1 = await runRefresh(deps());
  t.match(r1, { targets: 3, checked: 2, deferred: 1, moved: 0, errors: 0 });
  const checked = () => s.conn.zrange(refreshKeys(prefix).checked, 0, -1);
  t.same((await checked()).sort(), [refs[0], refs[1]]);
  s.clock.ms += 60_000;
  const r2 = await runRefresh(deps());
  t.match(r2, { checked: 2, deferred: 1 });
  t.ok(await s.conn.zscore(refreshKeys(prefix).checked, refs[2]!), 'the deferred tag went first in the next run');
  t.equal(Number(await s.conn.zscore(refreshKeys(prefix).checked, refs[1]!)), s.clock.ms - 60_000, 'and the most recently checked one waited');
});

t.test('a 429 with a long Retry-After stops that host for the run; other hosts go on', async (t) => {
  const { s, deps } = setup(t, { refresh: { inUseOnly: false }, engineRetries: 2 });
  proxy.rules.push({ method: 'HEAD', path: /\/demo\/limited-.*\/manifests\//, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '120' } } });
  t.teardown(() => void proxy.rules.splice(0));
  const digest = `sha256:${'1'.repeat(64)}`;
  for (const n of [1, 2, 3]) await s.record(`${proxy.host}/demo/limited-${n}:1`, digest);
  const fine = `${upstream.host}/demo/fine:1`;
  await s.record(fine, (await pushNew(fine)).digest);
  proxy.log.length = 0;
  const report = await runRefresh(deps());
  t.match(report, { targets: 4, checked: 1, moved: 0, deferred: 3, errors: 0 });
  t.match(report.stoppedHosts, [{ host: proxy.host, retryAfterMs: 120_000, reason: /429|rate/i }]);
  t.equal(proxy.log.filter((l) => /\/manifests\//.test(l)).length, 1, 'one manifest request to the limited host, no retries, no other tags');

  // The next run comes before the Retry-After (120 s) has passed: the host is not asked at all.
  s.clock.ms += 60_000;
  const next = await runRefresh(deps());
  t.match(next, { targets: 4, checked: 1, deferred: 3 });
  t.match(next.stoppedHosts, [{ host: proxy.host, reason: /Retry-After lasts until/, retryAfterMs: 60_000 }]);
  t.equal(proxy.log.filter((l) => /\/manifests\//.test(l)).length, 1, 'no request to the limited host while its Retry-After lasts');

  // Once it has passed, the host is asked again (the engine's own pause runs on the wall clock: forgotten here).
  proxy.rules.splice(0);
  s.clock.ms += 61_000;
  t.ok(forgetHostGate(proxy.host));
  const after = await runRefresh(deps());
  t.same(after.stoppedHosts, []);
  t.match(after, { checked: 4, deferred: 0 });
  t.ok(proxy.log.filter((l) => /\/manifests\//.test(l)).length > 1, 'asked again after the Retry-After');
});

t.test('inUseOnly without a pod watch is skipped; without inUseOnly every mirrored tag is a target', async (t) => {
  const { s, deps } = setup(t);
  const ref = `${upstream.host}/demo/solo:1`;
  await s.record(ref, (await pushNew(ref)).digest);
  const { inUse: _drop, ...noIndex } = deps();
  t.match(await runRefresh(noIndex), { skipped: /inUseOnly/, checked: 0 });
  t.match(await runRefresh(deps()), { targets: 0, checked: 0, note: /not live/ }, 'no pod runs it, and the index is not live');
});

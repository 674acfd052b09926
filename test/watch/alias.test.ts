/**
 * `alias` end to end: a real upstream and mirror (docker-registry), real copy
 * workers, skopeo as the oracle. The alias tag in the mirror follows the
 * watch's selection only once its copy completed, is repaired when someone
 * puts another manifest under it, and is refused when it names an upstream tag.
 */
import t from 'tap';
import { connectRedis } from '../../src/queue/index.js';
import { parseReference, repositoryOf } from '../../src/reference/index.js';
import { RegistryEngine } from '../../src/registry/index.js';
import type { AliasedEvent } from '../../src/watch/alias.js';
import { WATCH_ERROR_CODES } from '../../src/watch/errors.js';
import type { WatchView } from '../../src/watch/index.js';
import { createWorkerPool, type WorkerPool } from '../../src/worker/index.js';
import { inspectRaw } from '../support/images.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import { cleanupLayouts, harness, logger, nextEvent, push } from './support/env.js';
import { api, polled, retained } from './support/e2e.js';

const [redis, upstream, mirror] = await Promise.all([startRedis(), startRegistry(), startRegistry()]);
t.teardown(async () => {
  await Promise.all([redis.stop(), upstream.stop(), mirror.stop()]);
  cleanupLayouts();
});

const YEARLY = '0 0 1 1 *';
const repo = 'demo/aliased';
const clashRepo = 'demo/clash';
const keptRepo = 'demo/kept';
const h = await harness({
  redisUrl: redis.url,
  mirror,
  prefix: 'alias',
  workers: false, // copies run only while the test runs a worker pool (below)
  watch: [
    { id: 'app', image: `${upstream.host}/${repo}`, strategy: 'semver', constraint: '>=1', schedule: YEARLY, alias: 'current' },
    { id: 'kept', image: `${upstream.host}/${keptRepo}`, strategy: 'semver', schedule: YEARLY, alias: 'current', keep: 1 },
    { id: 'clash', image: `${upstream.host}/${clashRepo}`, strategy: 'semver', schedule: YEARLY, alias: 'stable' },
  ],
});
t.teardown(() => h.close());

let pool: WorkerPool | undefined;
const engine = new RegistryEngine({ config: h.config, retries: 0 });
const conns: ReturnType<typeof connectRedis>[] = [];
t.teardown(async () => {
  await pool?.close();
  await engine.close();
  for (const c of conns) c.disconnect();
});
const startWorkers = () => {
  const connection = connectRedis(redis.url);
  conns.push(connection);
  pool = createWorkerPool({ connection, store: h.store, config: h.config, engine, logger, countsIntervalMs: 0, workerOpts: { lockDuration: 5000, stalledInterval: 2000 } });
};

const aliased = (digest: string, id = 'app') => nextEvent<AliasedEvent>(h.watcher, 'aliased', (e) => e.id === id && e.digest === digest);
const view = async (id: string) => (await api<WatchView>(`${h.url}/api/watches/${id}`)).body;

const clashV1 = await push(upstream, clashRepo, '1.0.0');
await push(upstream, clashRepo, 'stable'); // the alias name is an upstream tag too
const k1 = await push(upstream, keptRepo, '1.0.0');
const v1 = await push(upstream, repo, '1.0.0');
const mirrorRepo = repositoryOf(parseReference(h.mirrorRefOf(v1.ref)));
const aliasRef = `${mirrorRepo}:current`;

t.test('first poll, copy, then the alias appears at the mirrored digest', async (t) => {
  startWorkers();
  const first = polled(h, 'app');
  const moved = aliased(v1.image.digest);
  const keptMoved = aliased(k1.image.digest, 'kept');
  await h.watcher.start();
  await keptMoved;
  t.match(await first, { result: 'initial', selected: { tag: '1.0.0' } });
  t.match(await moved, { id: 'app', alias: 'current', digest: v1.image.digest, previous: null, action: 'moved' });
  const mirrored = await inspectRaw(h.mirrorRefOf(v1.ref));
  const alias = await inspectRaw(aliasRef);
  t.equal(alias?.digest, v1.image.digest, 'skopeo sees the alias at the mirrored digest');
  t.same(alias?.manifest, mirrored?.manifest, 'with the mirrored manifest');
  t.match((await view('app')).alias, { tag: 'current', digest: v1.image.digest, movedAt: String, waitingFor: null, error: null });
});

t.test('a higher tag moves the alias only once its copy completed', async (t) => {
  await pool!.close(); // nobody copies now
  pool = undefined;
  const v2 = await push(upstream, repo, '1.1.0');
  t.match((await api(`${h.url}/api/watches/app/poll`, 'POST')).body, { result: 'new-tag', selected: { tag: '1.1.0', digest: v2.image.digest } });
  t.notOk((await h.store.get(v2.ref))?.mirroredAt, '1.1.0 is not copied yet');
  t.equal((await inspectRaw(aliasRef))?.digest, v1.image.digest, 'the alias stays on the copied 1.0.0');
  t.match((await view('app')).alias, { digest: v1.image.digest, waitingFor: v2.image.digest, error: null });

  const moved = aliased(v2.image.digest);
  startWorkers();
  t.match(await moved, { digest: v2.image.digest, previous: v1.image.digest, action: 'moved' });
  t.equal((await h.store.get(v2.ref))?.state, 'mirrored', 'it moved after the copy');
  t.equal((await inspectRaw(aliasRef))?.digest, v2.image.digest, 'skopeo sees the alias at 1.1.0');
  t.match((await view('app')).alias, { digest: v2.image.digest, waitingFor: null });
  t.ok(await inspectRaw(h.mirrorRefOf(v1.ref)), '1.0.0 stays in the mirror (no keep)');
});

t.test('an alias tag put elsewhere in the mirror is repaired', async (t) => {
  const want = (await view('app')).alias!.digest!;
  const other = await push(mirror, mirrorRepo.slice(mirror.host.length + 1), 'current'); // someone overwrote the tag
  t.equal((await inspectRaw(aliasRef))?.digest, other.image.digest);
  // A scheduled poll trusts the remembered (recently verified) alias: no mirror request.
  t.match(await h.watcher.poll('app', 'schedule'), { result: 'unchanged' });
  t.equal((await inspectRaw(aliasRef))?.digest, other.image.digest, 'not verified again so soon');
  // An API poll verifies it with a HEAD and puts it back.
  const repaired = aliased(want);
  t.match((await api(`${h.url}/api/watches/app/poll`, 'POST')).body, { result: 'unchanged' });
  t.match(await repaired, { action: 'repaired', digest: want });
  t.equal((await inspectRaw(aliasRef))?.digest, want, 'skopeo sees the alias back at the selection');
});

t.test('an alias that is also an upstream tag is refused', async (t) => {
  await h.mirrored(clashV1.ref, clashV1.image.digest);
  const poll = (await api(`${h.url}/api/watches/clash/poll`, 'POST')).body;
  t.match(poll, { result: 'unchanged', selected: { tag: '1.0.0' } });
  const v = await view('clash');
  t.match(v.alias, { tag: 'stable', digest: null, error: { code: WATCH_ERROR_CODES.ALIAS_CONFLICT, message: /"stable" is also an upstream tag/ } });
  t.equal(v.error, null, 'the poll itself is fine');
  const clashMirror = repositoryOf(parseReference(h.mirrorRefOf(clashV1.ref)));
  t.equal(await inspectRaw(`${clashMirror}:stable`), undefined, 'no alias tag was put in the mirror');
});

t.test('retention keeps the digest the alias points at while the new selection is not copied', async (t) => {
  await pool!.close();
  pool = undefined;
  const k2 = await push(upstream, keptRepo, '1.1.0');
  t.match((await api(`${h.url}/api/watches/kept/poll`, 'POST')).body, { result: 'new-tag', selected: { tag: '1.1.0' } });
  const k3 = await push(upstream, keptRepo, '1.2.0');
  t.match((await api(`${h.url}/api/watches/kept/poll`, 'POST')).body, { result: 'new-tag', selected: { tag: '1.2.0' } });
  // 1.2.0 vanishes upstream before it is copied: 1.1.0 lands, the selection's copy never does.
  const del = await fetch(`${upstream.url}/v2/${keptRepo}/manifests/${k3.image.digest}`, { method: 'DELETE' });
  t.equal(del.status, 202);
  const pass = retained(h, 'kept', (r) => r.held.includes(k2.image.digest) || r.deleted.includes(k2.image.digest));
  startWorkers();
  const report = await pass;
  t.notOk(report.deleted.includes(k1.image.digest), 'the alias digest is not deleted although 1.0.0 is past keep: 1');
  const keptAlias = `${repositoryOf(parseReference(h.mirrorRefOf(k1.ref)))}:current`;
  t.equal((await inspectRaw(keptAlias))?.digest, k1.image.digest, 'pods naming the alias still pull 1.0.0');
  t.match((await view('kept')).alias, { digest: k1.image.digest, waitingFor: k3.image.digest });
});

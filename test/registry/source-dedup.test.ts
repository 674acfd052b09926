/**
 * Source-side de-duplication: images that share layers, copied by one engine
 * into different mirror repositories, take each shared layer from the
 * upstream ONCE; the other copies cross-repository mount it in the mirror.
 * Real docker-registry upstream and mirror, a counting proxy in front of the
 * upstream (and, to refuse mounts, of the mirror). The wait for another
 * copy's download is observed through the engine's debug log (an event, not
 * a sleep). Plus the pure bookkeeping (mount-cache.ts, blob-dedup.ts).
 */
import t, { type Test } from 'tap';
import { SharedDownloads } from '../../src/registry/blob-dedup.js';
import { RegistryEngine, type CopyResult } from '../../src/registry/index.js';
import { BlobHomes, NO_ORIGIN } from '../../src/registry/mount-cache.js';
import { inspectRaw, pushImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { startRoundTripProxy, type RoundTripProxy } from '../support/round-trip-proxy.js';
import { buildSharedLayerImages, type SharedLayerImages } from '../support/shared-layers.js';
import { testConfig } from './support/fixtures.js';

let upstream: TestRegistry;
let mirror: TestRegistry;
let up: RoundTripProxy;

t.before(async () => {
  [upstream, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  up = await startRoundTripProxy(upstream.host);
});
t.teardown(async () => {
  await up?.stop();
  await Promise.all([upstream?.stop(), mirror?.stop()]);
});

/** Images sharing `shared` layers, pushed to the upstream as `<ns>/<tag>:1` (straight, not through the proxy). */
async function images(t: Test, ns: string, tags: string[], shared: number[]): Promise<SharedLayerImages> {
  const imgs = buildSharedLayerImages(tags, shared, [30_000]);
  t.teardown(imgs.cleanup);
  for (const im of imgs.images) await pushImage(imgs.layout, im.tag, `${upstream.host}/${ns}/${im.tag}:1`);
  return imgs;
}

/** GETs of blob `digest` the upstream answered (any repository). */
const blobGets = (p: RoundTripProxy, digest: string) => p.count(new RegExp(`^GET /v2/.+/blobs/${digest} 200$`));

/** An engine whose debug log resolves `waiting` the first time a copy waits for another copy's download. */
function engineWatchingWaits(t: Test): { engine: RegistryEngine; waiting: Promise<void> } {
  let seen!: () => void;
  const waiting = new Promise<void>((r) => (seen = r));
  const logger = { debug: (_o: object, m?: string) => m?.startsWith('blob: waiting for the download') && seen(), info() {}, warn() {} };
  const engine = new RegistryEngine({ config: testConfig(), logger, retries: 0 });
  t.teardown(() => engine.close());
  return { engine, waiting };
}

const sum = (rs: CopyResult[], k: 'blobsCopied' | 'blobsMounted' | 'blobsSkipped') => rs.reduce((a, r) => a + r[k], 0);

async function mirrored(t: Test, host: string, repo: string, digest: string): Promise<void> {
  t.equal((await inspectRaw(`${host}/${repo}:1`))?.digest, digest, `${repo}: the mirror serves the upstream digest`);
}

t.test('three images sharing two layers, copied at once: each shared layer leaves the upstream once', async (t) => {
  const imgs = await images(t, 'together', ['a', 'b', 'c'], [120_000, 80_000]);
  const engine = new RegistryEngine({ config: testConfig() });
  t.teardown(() => engine.close());
  up.reset();
  const results = await Promise.all(imgs.images.map((im) => engine.copy({ src: `${up.host}/together/${im.tag}:1`, dst: `${mirror.host}/m/together-${im.tag}:1` })));
  for (const d of imgs.shared) t.equal(blobGets(up, d), 1, `shared layer ${d.slice(7, 19)}: one upstream GET`);
  for (const im of imgs.images) for (const d of im.own) t.equal(blobGets(up, d), 1, `${im.tag}'s own blob: one upstream GET`);
  t.equal(sum(results, 'blobsMounted'), 2 * imgs.shared.length, 'the two other copies mounted both shared layers');
  t.equal(sum(results, 'blobsCopied'), imgs.shared.length + 2 * imgs.images.length, 'copied: the shared layers once, each own config and layer');
  for (const im of imgs.images) await mirrored(t, mirror.host, `m/together-${im.tag}`, im.digest);
  for (const im of imgs.images) for (const d of imgs.shared) t.ok(await engine.blobExists(`${mirror.host}/m/together-${im.tag}`, d), `${im.tag} holds the shared layer`);
});

t.test('a layer another repository got from the same upstream before is mounted, not downloaded', async (t) => {
  const imgs = await images(t, 'later', ['a', 'b'], [100_000]);
  const engine = new RegistryEngine({ config: testConfig() });
  t.teardown(() => engine.close());
  up.reset();
  await engine.copy({ src: `${up.host}/later/a:1`, dst: `${mirror.host}/m/later-a:1` });
  const b = await engine.copy({ src: `${up.host}/later/b:1`, dst: `${mirror.host}/m/later-b:1` });
  t.equal(b.blobsMounted, 1);
  t.equal(blobGets(up, imgs.shared[0]!), 1, 'one upstream GET');
  await mirrored(t, mirror.host, 'm/later-b', imgs.images[1]!.digest);
});

t.test('a layer that came from another upstream registry is downloaded again, never mounted across', async (t) => {
  const imgs = await images(t, 'other', ['a', 'b'], [100_000]);
  const second = await startRegistry();
  t.teardown(() => second.stop());
  await pushImage(imgs.layout, 'b', `${second.host}/other/b:1`);
  const engine = new RegistryEngine({ config: testConfig() });
  t.teardown(() => engine.close());
  await engine.copy({ src: `${up.host}/other/a:1`, dst: `${mirror.host}/m/other-a:1` });
  const b = await engine.copy({ src: `${second.host}/other/b:1`, dst: `${mirror.host}/m/other-b:1` });
  t.equal(b.blobsMounted, 0, 'nothing mounted from the first upstream\'s copy');
  t.equal(b.blobsCopied, 3);
  await mirrored(t, mirror.host, 'm/other-b', imgs.images[1]!.digest);
});

t.test('the mirror refuses the mount (202): the waiting copy downloads the layer itself', async (t) => {
  const imgs = await images(t, 'refused', ['a', 'b'], [100_000]);
  const refusing = await startRoundTripProxy(mirror.host, { refuseMounts: true });
  t.teardown(() => refusing.stop());
  const { engine, waiting } = engineWatchingWaits(t);
  const held = up.hold((m, p) => m === 'GET' && p.endsWith(`/blobs/${imgs.shared[0]}`));
  up.reset();
  const a = engine.copy({ src: `${up.host}/refused/a:1`, dst: `${refusing.host}/m/refused-a:1` });
  await held.arrived;
  const b = engine.copy({ src: `${up.host}/refused/b:1`, dst: `${refusing.host}/m/refused-b:1` });
  await waiting;
  held.release();
  const results = await Promise.all([a, b]);
  t.ok(refusing.count(/^POST \/v2\/m\/refused-b\/blobs\/uploads\/\?mount=.* 202$/) >= 1, 'a mount was asked and answered 202');
  t.equal(sum(results, 'blobsMounted'), 0);
  t.equal(blobGets(up, imgs.shared[0]!), 2, 'each copy downloaded the layer');
  for (const im of imgs.images) await mirrored(t, mirror.host, `m/refused-${im.tag}`, im.digest);
});

t.test('the copy that downloads is cancelled: the waiting one downloads on its own and finishes', async (t) => {
  const imgs = await images(t, 'owner-gone', ['a', 'b'], [100_000]);
  const { engine, waiting } = engineWatchingWaits(t);
  const held = up.hold((m, p) => m === 'GET' && p.endsWith(`/blobs/${imgs.shared[0]}`));
  up.reset();
  const cancel = new AbortController();
  const a = engine.copy({ src: `${up.host}/owner-gone/a:1`, dst: `${mirror.host}/m/owner-gone-a:1`, signal: cancel.signal });
  await held.arrived;
  const b = engine.copy({ src: `${up.host}/owner-gone/b:1`, dst: `${mirror.host}/m/owner-gone-b:1` });
  await waiting;
  cancel.abort();
  await t.rejects(a, { code: 'FERRY_ERR_REGISTRY_ABORTED' });
  held.release();
  const rb = await b;
  t.equal(rb.blobsMounted, 0);
  t.equal(blobGets(up, imgs.shared[0]!), 1, 'the layer: the waiting copy\'s own download (the cancelled one never got it)');
  await mirrored(t, mirror.host, 'm/owner-gone-b', imgs.images[1]!.digest);
  t.equal(await inspectRaw(`${mirror.host}/m/owner-gone-a:1`), undefined, 'the cancelled image is not in the mirror');
});

t.test('a waiting copy is cancelled: the download it waited for goes on for the other', async (t) => {
  const imgs = await images(t, 'waiter-gone', ['a', 'b'], [100_000]);
  const { engine, waiting } = engineWatchingWaits(t);
  const held = up.hold((m, p) => m === 'GET' && p.endsWith(`/blobs/${imgs.shared[0]}`));
  up.reset();
  const a = engine.copy({ src: `${up.host}/waiter-gone/a:1`, dst: `${mirror.host}/m/waiter-gone-a:1` });
  await held.arrived;
  const cancel = new AbortController();
  const b = engine.copy({ src: `${up.host}/waiter-gone/b:1`, dst: `${mirror.host}/m/waiter-gone-b:1`, signal: cancel.signal });
  await waiting;
  cancel.abort();
  await t.rejects(b, { code: 'FERRY_ERR_REGISTRY_ABORTED' }, 'the waiter is released at once, the download still held');
  held.release();
  const ra = await a;
  t.equal(ra.blobsCopied, 3);
  t.equal(blobGets(up, imgs.shared[0]!), 1);
  await mirrored(t, mirror.host, 'm/waiter-gone-a', imgs.images[0]!.digest);
});

t.test('bookkeeping (no I/O): blob homes by origin, bounded LRU; shared downloads freed when settled', async (t) => {
  const homes = new BlobHomes(2, 2);
  homes.remember('m', 'r1', 'd1', 'up-a');
  homes.remember('m', 'r2', 'd1', NO_ORIGIN);
  t.same(homes.candidates('m', 'd1', 'r9', 'up-a'), ['r1'], 'only homes filled from the same upstream');
  t.same(homes.candidates('m', 'd1', 'r9', 'up-b'), [], 'none from another upstream');
  t.same(homes.candidates('m', 'd1', 'r9', undefined), ['r2', 'r1'], 'a local stream may use any, most recent first');
  t.same(homes.candidates('m', 'd1', 'r1', 'up-a'), [], 'never the repository itself');
  t.same(homes.candidates('other', 'd1', 'r9', 'up-a'), [], 'never another mirror host');
  homes.remember('m', 'r1', 'd2', 'up-a');
  homes.candidates('m', 'd1', 'r9', 'up-a'); // d1 used: d2 is now the least recently used
  homes.remember('m', 'r1', 'd3', 'up-a');
  t.equal(homes.size, 2, 'bounded');
  t.same(homes.candidates('m', 'd2', 'r9', 'up-a'), [], 'the least recently used went first');
  t.same(homes.candidates('m', 'd1', 'r9', 'up-a'), ['r1']);
  homes.remember('m', 'r3', 'd1', 'up-a');
  homes.remember('m', 'r4', 'd1', 'up-a');
  t.same(homes.candidates('m', 'd1', 'r9', 'up-a'), ['r4', 'r3'], 'repositories per digest bounded, the newest kept');

  const downloads = new SharedDownloads(1);
  const claim = downloads.claim('m', 'up-a', 'd1', 'r1')!;
  t.ok(claim);
  t.equal(downloads.claim('m', 'up-a', 'd1', 'r2'), undefined, 'one download per key');
  t.equal(downloads.claim('m', 'up-a', 'd2', 'r2'), undefined, 'bounded: past the limit, no announcement');
  const running = downloads.find('m', 'up-a', 'd1')!;
  t.equal(running.repository, 'r1');
  t.equal(downloads.find('m', 'up-b', 'd1'), undefined, 'keyed by upstream too');
  claim.settle(false);
  claim.settle(true);
  t.equal(await running.done, false, 'settled once: the first answer stands');
  t.equal(downloads.size, 0, 'freed');
  t.ok(downloads.claim('m', 'up-a', 'd1', 'r2'), 'free to claim again');
});

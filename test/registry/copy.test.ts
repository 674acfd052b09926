import t from 'tap';
import { RegistryEngine, type CopyResult } from '../../src/registry/index.js';
import { inspectRaw } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { buildTestImages, pushTestImages, testConfig, type TestImages } from './support/fixtures.js';

let upstream: TestRegistry;
let mirror: TestRegistry;
let imgs: TestImages;

t.before(async () => {
  [upstream, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  imgs = buildTestImages();
  await pushTestImages(imgs, upstream.host);
});
t.teardown(async () => {
  await Promise.all([upstream?.stop(), mirror?.stop()]);
  imgs?.cleanup();
});

const engineFor = () => new RegistryEngine({ config: testConfig({ copy: { platforms: ['linux/amd64', 'linux/arm64'] } }) });

t.test('single image: byte-identical manifest, counters, progress', async (t) => {
  const engine = engineFor();
  t.teardown(() => engine.close());
  const calls: { bytesDone: number; bytesTotal: number }[] = [];
  const res = await engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${mirror.host}/demo/app:v1`, onProgress: (p) => calls.push(p) });
  const up = await inspectRaw(`${upstream.host}/demo/app:v1`);
  const mi = await inspectRaw(`${mirror.host}/demo/app:v1`);
  t.equal(res.digest, imgs.amd64.digest);
  t.equal(mi?.digest, up?.digest, 'mirror manifest digest = upstream');
  t.equal(res.upToDate, false);
  t.equal(res.blobsCopied, 3);
  t.equal(res.bytesTotal, imgs.amd64.bytes);
  t.equal(res.bytesCopied, imgs.amd64.bytes);
  t.ok(calls.length >= 1 && calls.length < 50, `progress calls ${calls.length}`);
  t.same(calls.at(-1), { bytesDone: imgs.amd64.bytes, bytesTotal: imgs.amd64.bytes });
});

t.test('unchanged image: upToDate, nothing read (its time is in bench/copy)', async (t) => {
  const engine = engineFor();
  t.teardown(() => engine.close());
  await engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${mirror.host}/demo/app:v1` });
  const res = await engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${mirror.host}/demo/app:v1` });
  t.equal(res.upToDate, true);
  t.equal(res.digest, imgs.amd64.digest);
  t.match(res, { bytesCopied: 0, blobsCopied: 0, blobsSkipped: 0, blobsMounted: 0 });
});

t.test('index with platforms [] (all): index bytes unchanged, every child present', async (t) => {
  const engine = engineFor();
  t.teardown(() => engine.close());
  const res = await engine.copy({ src: `${upstream.host}/demo/app:multi`, dst: `${mirror.host}/all/app:multi`, platforms: [] });
  t.equal(res.digest, imgs.index.digest);
  t.equal(res.sourceDigest, imgs.index.digest);
  t.equal(res.filtered, false);
  t.equal(res.mediaType, 'application/vnd.oci.image.index.v1+json');
  t.same(res.platforms.sort(), ['linux/amd64', 'linux/arm/v7', 'linux/arm64/v8']);
  t.equal(res.blobsCopied, 9);
  t.equal((await inspectRaw(`${mirror.host}/all/app:multi`))?.digest, imgs.index.digest, 'oracle: same index digest');
  for (const child of [imgs.amd64, imgs.arm64, imgs.armv7]) {
    t.equal((await engine.resolveDigest(`${mirror.host}/all/app@${child.digest}`))?.digest, child.digest);
  }
});

t.test('index filtered by tag: new index with the matching children only', async (t) => {
  const engine = engineFor();
  t.teardown(() => engine.close());
  const res = await engine.copy({ src: `${upstream.host}/demo/app:multi`, dst: `${mirror.host}/filtered/app:multi` });
  t.equal(res.filtered, true);
  t.equal(res.sourceDigest, imgs.index.digest);
  t.not(res.digest, imgs.index.digest, 'filtered index has a new digest');
  t.same(res.platforms.sort(), ['linux/amd64', 'linux/arm64/v8']);
  t.equal(res.blobsCopied, 6);
  const mi = await inspectRaw(`${mirror.host}/filtered/app:multi`);
  t.equal(mi?.digest, res.digest, 'mirror holds the new index');
  t.same(
    mi?.manifest.manifests.map((m: { digest: string }) => m.digest),
    [imgs.amd64.digest, imgs.arm64.digest],
  );
  t.equal(await engine.resolveDigest(`${mirror.host}/filtered/app@${imgs.armv7.digest}`), undefined, 'arm/v7 child not copied');
  t.equal(await engine.resolveDigest(`${mirror.host}/filtered/app@${imgs.index.digest}`), undefined, 'original index digest does not resolve');
  // deterministic: a re-copy is up to date with the same digest
  const again = await engine.copy({ src: `${upstream.host}/demo/app:multi`, dst: `${mirror.host}/filtered/app:multi` });
  t.equal(again.upToDate, true);
  t.equal(again.digest, res.digest);
});

t.test('index pinned by digest: never filtered (digest kept)', async (t) => {
  const engine = engineFor();
  t.teardown(() => engine.close());
  const res = await engine.copy({
    src: `${upstream.host}/demo/app:multi@${imgs.index.digest}`,
    dst: `${mirror.host}/pinned/app:multi@${imgs.index.digest}`,
    platforms: ['linux/amd64'],
  });
  t.equal(res.digest, imgs.index.digest);
  t.equal(res.filtered, false);
  t.equal(res.platforms.length, 3);
  t.equal((await inspectRaw(`${mirror.host}/pinned/app@${imgs.index.digest}`))?.digest, imgs.index.digest);
});

t.test('no matching platform: permanent error listing what exists', async (t) => {
  const engine = engineFor();
  t.teardown(() => engine.close());
  const err = await engine.copy({ src: `${upstream.host}/demo/app:multi`, dst: `${mirror.host}/none/app:multi`, platforms: ['windows/amd64'] }).catch((e) => e);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_NO_MATCHING_PLATFORM');
  t.equal(err.transient, false);
  t.match(err.message, /linux\/arm64/);
  t.equal(await inspectRaw(`${mirror.host}/none/app:multi`), undefined);
});

t.test('missing source tag: MANIFEST_UNKNOWN, permanent, names host and repo', async (t) => {
  const engine = engineFor();
  t.teardown(() => engine.close());
  const err = await engine.copy({ src: `${upstream.host}/demo/app:nope`, dst: `${mirror.host}/demo/app:nope` }).catch((e) => e);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_MANIFEST_UNKNOWN');
  t.equal(err.transient, false);
  t.match(err.message, `${upstream.host}/demo/app`);
  const err2 = await engine.listTags(`${upstream.host}/nothing/here`).catch((e) => e);
  t.equal(err2.code, 'FERRY_ERR_REGISTRY_NAME_UNKNOWN');
  t.equal(err2.transient, false);
});

t.test('cross-repository mount: from a repo seen in-process, and from a hint', async (t) => {
  const engine = engineFor();
  t.teardown(() => engine.close());
  await engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${mirror.host}/mnt/a:v1` });
  const res = await engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${mirror.host}/mnt/b:v1` });
  t.equal(res.blobsMounted, 3, 'all blobs mounted');
  t.equal(res.bytesCopied, 0);
  t.equal((await inspectRaw(`${mirror.host}/mnt/b:v1`))?.digest, imgs.amd64.digest);
  // a fresh engine knows nothing: the hint makes it mount
  const fresh = engineFor();
  t.teardown(() => fresh.close());
  const res2 = await fresh.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${mirror.host}/mnt/c:v1`, mountFrom: [`${mirror.host}/mnt/a`] });
  t.equal(res2.blobsMounted, 3);
  // same registry, other repo: mounts straight from the source repo
  const res3 = await fresh.copy({ src: `${mirror.host}/mnt/a:v1`, dst: `${mirror.host}/mnt/d:v1` });
  t.equal(res3.blobsMounted, 3);
});

t.test('blobs already present are skipped; concurrent copies stream each blob once', async (t) => {
  const engine = engineFor();
  t.teardown(() => engine.close());
  const results: CopyResult[] = await Promise.all([
    engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${mirror.host}/dedup/app:v1` }),
    engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${mirror.host}/dedup/app:v1` }),
  ]);
  t.equal(results[0]!.bytesCopied + results[1]!.bytesCopied, imgs.amd64.bytes, 'each byte streamed once');
  const other = await engineFor().copy({ src: `${upstream.host}/demo/app:v1`, dst: `${mirror.host}/dedup/app:v2` });
  t.equal(other.blobsSkipped, 3);
  t.equal(other.bytesCopied, 0);
});

t.test('API: resolveDigest, getManifest, getBlobJson, listTags, blobExists', async (t) => {
  const engine = engineFor();
  t.teardown(() => engine.close());
  const r = await engine.resolveDigest(`${upstream.host}/demo/app:v1`);
  t.same(r, { digest: imgs.amd64.digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: imgs.amd64.size });
  t.equal(await engine.resolveDigest(`${upstream.host}/demo/app:missing`), undefined);
  const m = await engine.getManifest(`${upstream.host}/demo/app:v1`);
  t.equal(m.digest, imgs.amd64.digest);
  t.equal(m.json.layers.length, 2);
  const cfg = await engine.getBlobJson(`${upstream.host}/demo/app`, m.json.config.digest);
  t.equal(cfg.created, '2024-01-02T03:04:05Z');
  t.same(await engine.listTags(`${upstream.host}/demo/app`), ['multi', 'v1']);
  t.equal(await engine.blobExists(`${upstream.host}/demo/app`, imgs.amd64.layers[0]!), true);
  t.equal(await engine.blobExists(`${upstream.host}/demo/app`, `sha256:${'0'.repeat(64)}`), false);
  const err = await engine.getManifest(`${upstream.host}/demo/app@sha256:${'1'.repeat(64)}`).catch((e) => e);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_MANIFEST_UNKNOWN');
});

t.test('API: pushBlob (digest known / unknown / present), putManifest, deleteManifest', async (t) => {
  const { createHash, randomBytes } = await import('node:crypto');
  const { Readable } = await import('node:stream');
  const engine = engineFor();
  t.teardown(() => engine.close());
  const data = randomBytes(300_000);
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const repo = `${mirror.host}/api/blobs`;
  const chunks = (b: Buffer) => Readable.from([b.subarray(0, 1000), b.subarray(1000, 200_000), b.subarray(200_000)]);
  const a = await engine.pushBlob(repo, chunks(data), { digest, size: data.length });
  t.same(a, { digest, size: data.length, skipped: false });
  t.equal(await engine.blobExists(repo, digest), true);
  const b = await engine.pushBlob(repo, chunks(data), { digest, size: data.length });
  t.equal(b.skipped, true);
  const data2 = randomBytes(70_000);
  const c = await engine.pushBlob(repo, chunks(data2));
  t.equal(c.digest, `sha256:${createHash('sha256').update(data2).digest('hex')}`);
  t.equal(c.size, data2.length);
  t.equal(await engine.blobExists(repo, c.digest), true);
  // wrong digest: refused, nothing committed
  const bad = await engine.pushBlob(repo, chunks(randomBytes(5000)), { digest: `sha256:${'2'.repeat(64)}` }).catch((e) => e);
  t.equal(bad.code, 'FERRY_ERR_REGISTRY_DIGEST_MISMATCH');
  t.equal(bad.transient, true);
  t.equal(await engine.blobExists(repo, `sha256:${'2'.repeat(64)}`), false);

  // manifest: copy the v1 manifest by hand (config + layers via pushBlob is overkill: mount them)
  await engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${mirror.host}/api/m:base` });
  const m = await engine.getManifest(`${upstream.host}/demo/app:v1`);
  const put = await engine.putManifest(`${mirror.host}/api/m:t1`, m.bytes, m.mediaType);
  t.equal(put.digest, imgs.amd64.digest);
  t.same(await engine.listTags(`${mirror.host}/api/m`), ['base', 't1']);
  t.equal(await engine.deleteManifest(`${mirror.host}/api/m`, put.digest), true, 'deleted');
  t.equal(await engine.resolveDigest(`${mirror.host}/api/m:t1`), undefined);
  t.equal(await engine.deleteManifest(`${mirror.host}/api/m`, put.digest), false, 'a second delete is a no-op that says so');
});

t.test('deleteManifest on a registry without delete: DELETE_DISABLED', async (t) => {
  const noDelete = await startRegistry({ deleteEnabled: false });
  t.teardown(() => noDelete.stop());
  const engine = engineFor();
  t.teardown(() => engine.close());
  const res = await engine.copy({ src: `${upstream.host}/demo/app:v1`, dst: `${noDelete.host}/demo/app:v1` });
  const err = await engine.deleteManifest(`${noDelete.host}/demo/app`, res.digest).catch((e) => e);
  t.equal(err.code, 'FERRY_ERR_REGISTRY_DELETE_DISABLED');
  t.equal(err.transient, false);
});

t.test('per-registry requestsPerSecond paces requests (shared token bucket)', async (t) => {
  const cfg = testConfig({ registries: { [upstream.host]: { requestsPerSecond: 20 } } });
  const a = new RegistryEngine({ config: cfg });
  const b = new RegistryEngine({ config: cfg });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const t0 = performance.now();
  // 30 HEADs (+ pings) split over two engines: one bucket of 20 + 20/s
  await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).resolveDigest(`${upstream.host}/demo/app:v1`)));
  const ms = performance.now() - t0;
  t.ok(ms >= 450, `paced: ${Math.round(ms)} ms`);
  // hot reload lifts the limit: at 1 request/s these 30 would need 29 s
  const c = new RegistryEngine({ config: testConfig({ registries: { [upstream.host]: { requestsPerSecond: 1 } } }) });
  t.teardown(() => c.close());
  c.updateConfig(testConfig());
  const t1 = performance.now();
  await Promise.all(Array.from({ length: 30 }, () => c.resolveDigest(`${upstream.host}/demo/app:v1`)));
  t.ok(performance.now() - t1 < 15_000, 'unlimited after updateConfig');
});

t.test("the mirror has no request budget unless its own registries entry sets one", async (t) => {
  const budget = (registries: Record<string, { requestsPerSecond?: number }>) => {
    const c = testConfig({ registries, copy: { requestsPerSecond: 50 } });
    c.mirror.registry = 'mirror.local:5000';
    const e = new RegistryEngine({ config: c });
    t.teardown(() => e.close());
    return (host: string) => e.transport.requestsPerSecondFor(host);
  };
  const plain = budget({});
  t.equal(plain('mirror.local:5000'), 0, 'mirror: unlimited by default');
  t.equal(plain('ghcr.io'), 50, 'upstream: copy.requestsPerSecond');
  const star = budget({ '*': { requestsPerSecond: 20 } });
  t.equal(star('mirror.local:5000'), 0, '"*" is about upstreams, not the mirror');
  t.equal(star('ghcr.io'), 20);
  const own = budget({ 'mirror.local:5000': { requestsPerSecond: 300 } });
  t.equal(own('mirror.local:5000'), 300, "the mirror's own entry applies");
});

t.test('Docker schema2 manifest and manifest list: byte-identical', async (t) => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const run = promisify(execFile);
  await run('skopeo', ['copy', '-q', '--all', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${imgs.layout}:multi`, `docker://${upstream.host}/docker/app:multi`]);
  const up = await inspectRaw(`${upstream.host}/docker/app:multi`);
  t.equal(up?.manifest.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
  const engine = engineFor();
  t.teardown(() => engine.close());
  const res = await engine.copy({ src: `${upstream.host}/docker/app:multi`, dst: `${mirror.host}/docker/app:multi`, platforms: [] });
  t.equal(res.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
  t.equal(res.digest, up?.digest);
  t.equal((await inspectRaw(`${mirror.host}/docker/app:multi`))?.digest, up?.digest);
  const child = up?.manifest.manifests[0].digest as string;
  const m = await engine.getManifest(`${mirror.host}/docker/app@${child}`);
  t.equal(m.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  t.equal(m.digest, child);
});

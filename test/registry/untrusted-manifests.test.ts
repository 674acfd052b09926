/**
 * What a hostile upstream manifest, header or tag list can make ferry do:
 * digests that are not digests must never reach a URL, and manifests over
 * ferry's limits are refused before anything is copied or pushed. Real HTTP
 * on loopback: a scriptable upstream and a recording mirror (support/fakeregistry.ts).
 */
import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { RegistryEngine } from '../../src/registry/index.js';
import { imageManifest, indexManifest, OCI_INDEX, OCI_MANIFEST, sha256, startFakeRegistry, type FakeRegistry } from './support/fakeregistry.js';
import { testConfig } from './support/fixtures.js';

const MiB = 1024 * 1024;
const hex = (i: number) => createHash('sha256').update(String(i)).digest('hex');
const CONFIG = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
const LAYER = Buffer.from('layer bytes');

let n = 0;
async function setup(t: Test): Promise<{ up: FakeRegistry; mirror: FakeRegistry; engine: RegistryEngine; src: string; dst: string }> {
  const [up, mirror] = await Promise.all([startFakeRegistry(), startFakeRegistry()]);
  const engine = new RegistryEngine({ config: testConfig(), retries: 0 });
  t.teardown(async () => {
    await engine.close();
    await Promise.all([up.stop(), mirror.stop()]);
  });
  n++;
  return { up, mirror, engine, src: `${up.host}/demo/app:v1`, dst: `${mirror.host}/m/app${n}:v1` };
}

/** Every request the upstream saw was for the ping or a manifest (no blob, nothing outside the repository). */
const onlyManifests = (up: FakeRegistry) => up.log.every((l) => l === 'GET /v2/' || /^(GET|HEAD) \/v2\/demo\/app\/manifests\/(v1|sha256:[0-9a-f]{64})$/.test(l));
const noBlobs = (mirror: FakeRegistry) => !mirror.log.some((l) => l.includes('/blobs/') || l.startsWith('PUT'));

const BAD_DIGESTS = [
  'sha256:../../../../v2/admin/blobs/x',
  `sha256:${'a'.repeat(56)}/../../x`,
  `sha256:${'a'.repeat(60)}?x=1`,
  `sha256:${'a'.repeat(60)}#x`,
  `sha256:${'A'.repeat(64)}`,
  `sha384:${'c'.repeat(96)}`,
  `md5:${'d'.repeat(32)}`,
];

t.test('a layer, config or child digest that is not a digest: INVALID_DIGEST before any request with it', async (t) => {
  for (const bad of BAD_DIGESTS) {
    for (const where of ['layer', 'config', 'child'] as const) {
      const { up, mirror, engine, src, dst } = await setup(t);
      const cfg = { digest: sha256(CONFIG), size: CONFIG.length };
      const layer = { digest: sha256(LAYER), size: LAYER.length };
      if (where === 'child') up.manifest('demo/app', ['v1'], indexManifest([{ digest: bad, size: 10 }]), OCI_INDEX);
      else up.manifest('demo/app', ['v1'], imageManifest(where === 'config' ? { ...cfg, digest: bad } : cfg, [where === 'layer' ? { ...layer, digest: bad } : layer]));
      const err = await engine.copy({ src, dst, platforms: [] }).catch((e) => e);
      t.match(err, { code: 'FERRY_ERR_REGISTRY_INVALID_DIGEST', transient: false, message: where === 'child' ? /child of sha256:/ : /blob of sha256:/ }, `${where}: ${bad}`);
      t.ok(onlyManifests(up), `upstream saw nothing but manifests: ${up.log.join(', ')}`);
      t.ok(noBlobs(mirror), 'mirror saw no blob request');
    }
  }
});

t.test('a Docker-Content-Digest header that is not a digest is not used: the manifest is hashed instead', async (t) => {
  const { up, engine } = await setup(t);
  const bytes = imageManifest({ digest: sha256(CONFIG), size: CONFIG.length }, []);
  const digest = up.manifest('demo/app', ['v1'], bytes);
  up.route('HEAD', '/v2/demo/app/manifests/v1', (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': OCI_MANIFEST, 'Content-Length': String(bytes.length), 'Docker-Content-Digest': 'sha256:../../../../v2/admin/x?' }).end();
  });
  t.equal((await engine.resolveDigest(`${up.host}/demo/app:v1`))?.digest, digest);
  t.ok(onlyManifests(up), up.log.join(', '));
});

t.test('a manifest asked for by sha512 is verified with sha512', async (t) => {
  const { up, engine } = await setup(t);
  const bytes = imageManifest({ digest: sha256(CONFIG), size: CONFIG.length }, []);
  const good = `sha512:${createHash('sha512').update(bytes).digest('hex')}`;
  const other = `sha512:${createHash('sha512').update('something else').digest('hex')}`;
  for (const d of [good, other]) {
    up.route('GET', `/v2/demo/app/manifests/${d}`, (req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': OCI_MANIFEST, 'Content-Length': String(bytes.length) }).end(bytes);
    });
  }
  t.equal((await engine.getManifest(`${up.host}/demo/app@${good}`)).digest, good);
  await t.rejects(engine.getManifest(`${up.host}/demo/app@${other}`), { code: 'FERRY_ERR_REGISTRY_DIGEST_MISMATCH' });
});

t.test('reading manifests: over 8 MiB is refused, announced (HEAD, GET Content-Length) or streamed', async (t) => {
  const { up, engine } = await setup(t);
  const digest = `sha256:${hex(1)}`;
  up.route('HEAD', '/v2/demo/app/manifests/v1', (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': OCI_MANIFEST, 'Content-Length': String(9 * MiB), 'Docker-Content-Digest': digest }).end();
  });
  await t.rejects(engine.resolveDigest(`${up.host}/demo/app:v1`), { code: 'FERRY_ERR_REGISTRY_MANIFEST_TOO_LARGE', transient: false, details: { limit: 8 * MiB } });
  t.notOk(up.log.some((l) => l.startsWith('GET /v2/demo')), 'no GET after a HEAD announcing 9 MiB');
  // streamed (chunked, no Content-Length): cut off after 8 MiB
  up.route('GET', '/v2/demo/app/manifests/chunked', async (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': OCI_MANIFEST });
    const chunk = Buffer.alloc(MiB, 0x20);
    for (let i = 0; i < 9 && !res.destroyed; i++) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    res.end();
  });
  await t.rejects(engine.getManifest(`${up.host}/demo/app:chunked`), { code: 'FERRY_ERR_REGISTRY_MANIFEST_TOO_LARGE', transient: false });
});

t.test('a source manifest over 4 MiB (what distribution accepts) is refused before any blob moves', async (t) => {
  const { up, mirror, engine, src, dst } = await setup(t);
  up.blob('demo/app', CONFIG);
  up.manifest('demo/app', ['v1'], imageManifest({ digest: sha256(CONFIG), size: CONFIG.length }, [], { annotations: { pad: 'x'.repeat(5 * MiB) } }));
  const err = await engine.copy({ src, dst }).catch((e) => e);
  t.match(err, { code: 'FERRY_ERR_REGISTRY_MANIFEST_TOO_LARGE', transient: false, details: { limit: 4 * MiB } });
  t.ok(noBlobs(mirror), mirror.log.join(', '));
  t.notOk(up.log.some((l) => l.includes('/blobs/')), 'no blob read upstream');
});

t.test('pushing a manifest over 4 MiB: refused before the PUT', async (t) => {
  const { mirror, engine } = await setup(t);
  const bytes = imageManifest({ digest: sha256(CONFIG), size: CONFIG.length }, [], { annotations: { pad: 'x'.repeat(4 * MiB) } });
  await t.rejects(engine.putManifest(`${mirror.host}/m/big:v1`, bytes, OCI_MANIFEST), { code: 'FERRY_ERR_REGISTRY_MANIFEST_TOO_LARGE', transient: false });
  t.notOk(mirror.log.some((l) => l.startsWith('PUT')), 'no PUT sent');
});

t.test('an index tree listing more than 1024 manifests: refused before any child is fetched', async (t) => {
  const { up, mirror, engine, src, dst } = await setup(t);
  up.manifest('demo/app', ['v1'], indexManifest(Array.from({ length: 1025 }, (_, i) => ({ digest: `sha256:${hex(i)}`, size: 500 }))), OCI_INDEX);
  const err = await engine.copy({ src, dst, platforms: [] }).catch((e) => e);
  t.match(err, { code: 'FERRY_ERR_REGISTRY_MANIFEST_TOO_LARGE', transient: false, details: { limit: 1024 } });
  t.equal(up.log.filter((l) => l.startsWith('GET /v2/demo/app/manifests/')).length, 1, 'only the index itself was read (by tag), no child');
  t.ok(noBlobs(mirror));
});

t.test('index nesting deeper than 4 is refused', async (t) => {
  const { up, engine, src, dst } = await setup(t);
  let child = imageManifest({ digest: sha256(CONFIG), size: CONFIG.length }, []);
  let childType = OCI_MANIFEST;
  for (let depth = 0; depth < 6; depth++) {
    const d = up.manifest('demo/app', [], child, childType);
    child = indexManifest([{ digest: d, size: child.length, mediaType: childType }]);
    childType = OCI_INDEX;
  }
  up.manifest('demo/app', ['v1'], child, OCI_INDEX);
  await t.rejects(engine.copy({ src, dst, platforms: [] }), { code: 'FERRY_ERR_REGISTRY_MANIFEST_TOO_LARGE', transient: false, details: { limit: 4 }, message: /nesting/ });
});

t.test('an image with more than 10,000 blobs is refused before any blob moves', async (t) => {
  const { up, mirror, engine, src, dst } = await setup(t);
  const layers = Array.from({ length: 10_001 }, (_, i) => ({ digest: `sha256:${hex(i)}`, size: 1 }));
  up.manifest('demo/app', ['v1'], imageManifest({ digest: sha256(CONFIG), size: CONFIG.length }, layers));
  await t.rejects(engine.copy({ src, dst }), { code: 'FERRY_ERR_REGISTRY_MANIFEST_TOO_LARGE', details: { limit: 10_000 } });
  t.ok(noBlobs(mirror));
});

t.test('malformed lists and sizes: MANIFEST_INVALID (permanent), nothing copied', async (t) => {
  const cfg = { digest: sha256(CONFIG), size: CONFIG.length };
  const cases: [string, Buffer, string][] = [
    ['size as a string', imageManifest(cfg, [{ digest: sha256(LAYER), size: '11' as unknown as number }]), OCI_MANIFEST],
    ['negative size', imageManifest(cfg, [{ digest: sha256(LAYER), size: -1 }]), OCI_MANIFEST],
    ['layers not a list', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...cfg, mediaType: 'x' }, layers: 7 })), OCI_MANIFEST],
    ['manifests not a list', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: 'all of them' })), OCI_INDEX],
    ['a child that is not an object', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [null] })), OCI_INDEX],
  ];
  for (const [what, bytes, mt] of cases) {
    const { up, mirror, engine, src, dst } = await setup(t);
    up.manifest('demo/app', ['v1'], bytes, mt);
    await t.rejects(engine.copy({ src, dst, platforms: [] }), { code: 'FERRY_ERR_REGISTRY_MANIFEST_INVALID', transient: false }, what);
    t.ok(noBlobs(mirror), what);
  }
});

t.test('tag lists: names that are not tags are dropped', async (t) => {
  const { up, engine } = await setup(t);
  up.route('GET', '/v2/demo/app/tags/list', (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ tags: ['v1', '../../../etc/passwd', 'a?b=c', 'v2', 42, 'x/y', '.hidden', 'v'.repeat(129)] }));
  });
  t.same(await engine.listTags(`${up.host}/demo/app`), ['v1', 'v2']);
});

t.test('digests and names from callers are checked too', async (t) => {
  const { up, engine } = await setup(t);
  await t.rejects(engine.getBlobJson(`${up.host}/demo/app`, 'sha256:../../x'), { code: 'FERRY_ERR_REGISTRY_INVALID_DIGEST' });
  await t.rejects(engine.blobExists(`${up.host}/demo/app`, `sha256:${'a'.repeat(60)}?x`), { code: 'FERRY_ERR_REGISTRY_INVALID_DIGEST' });
  await t.rejects(engine.deleteManifest(`${up.host}/demo/app`, 'latest'), { code: 'FERRY_ERR_REGISTRY_INVALID_DIGEST' });
  await t.rejects(engine.resolveDigest(`${up.host}/demo/../admin:v1`), { code: 'FERRY_ERR_REGISTRY_BAD_REFERENCE' });
  t.ok(up.log.every((l) => l === 'GET /v2/'), `nothing but pings: ${up.log.join(', ')}`);
});

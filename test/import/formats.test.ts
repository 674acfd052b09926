import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { importFile, runImportOnce, type ImportResult } from '../../src/import/index.js';
import { buildImage, buildIndex, inspectRaw } from '../support/images.js';
import { dockerArchive, fileImports, gzipFile, layout, makeDeps, ociArchive, startEnv } from './fixtures/helpers.js';

const run = promisify(execFile);
const env = await startEnv();
t.teardown(() => env.close());

const { d, engine, imp } = fileImports(t, env);
const okResult = (t: Test, r: ImportResult) => t.ok(r.ok, r.error ? `${r.error.code}: ${r.error.message}` : 'imported');

async function pack(entries: { name: string; body?: string | Buffer; type?: 'symlink' | 'file'; linkname?: string }[]): Promise<Buffer> {
  const p = tar.pack();
  for (const e of entries) {
    if (e.type === 'symlink') p.entry({ name: e.name, type: 'symlink', linkname: e.linkname! });
    else p.entry({ name: e.name }, e.body ?? '');
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** skopeo pulls the image from the mirror into an OCI layout: every blob digest is verified on the way. */
async function pullVerifies(ref: string): Promise<void> {
  const out = mkdtempSync(join(env.tmp, 'pull-'));
  await run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:x`]);
}

t.test('docker-archive, plain and gzip: schema2 with gzip layers, same digest twice, layers skipped the second time', async (t) => {
  const l = layout(env, 'v1');
  const file = join(env.tmp, 'app-docker.tar');
  await dockerArchive(l.dir, 'v1', file, 'demo/app:v1');
  const r = await imp(file);
  okResult(t, r);
  t.match(r, { format: 'docker-archive', compression: 'none', blobsPushed: 3, blobsSkipped: 0 });
  const ref = `${env.registry.host}/docker.io/demo/app:v1`;
  const got = await inspectRaw(ref);
  t.equal(got?.digest, r.images[0]?.digest);
  t.equal(got?.manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  t.same(
    got?.manifest.layers.map((x: any) => x.mediaType),
    ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'application/vnd.docker.image.rootfs.diff.tar.gzip'],
  );
  await pullVerifies(ref);
  t.match(await d.store.get('docker.io/demo/app:v1'), {
    ref: 'docker.io/demo/app:v1',
    mirrorRef: ref,
    state: 'mirrored',
    digest: r.images[0]!.digest,
    source: 'import',
    attempts: 0,
    maxAttempts: 8,
    lastError: null,
  });
  const rec = await d.store.get('docker.io/demo/app:v1');
  t.ok(rec!.mirroredAt && rec!.bytesTotal > 0 && rec!.bytesDone === rec!.bytesTotal);

  const gz = join(env.tmp, 'app-docker.tar.gz');
  await gzipFile(file, gz);
  const r2 = await imp(gz);
  okResult(t, r2);
  t.match(r2, { compression: 'gzip', blobsPushed: 0, blobsSkipped: 3 }, 'diffID cache + HEAD: nothing re-compressed or pushed');
  t.equal(r2.images[0]?.digest, r.images[0]?.digest, 'same manifest');
});

t.test('oci-archive, plain and gzip: the mirror keeps the source manifest digest', async (t) => {
  const l = layout(env, 'v1');
  const file = join(env.tmp, 'app-oci.tar');
  await ociArchive(l.dir, 'v1', file, 'docker.io/demo/oci:v1');
  const r = await imp(file);
  okResult(t, r);
  t.equal(r.images[0]?.ref, 'docker.io/demo/oci:v1');
  t.equal(r.images[0]?.digest, l.image.digest);
  t.equal((await inspectRaw(`${env.registry.host}/docker.io/demo/oci:v1`))?.digest, l.image.digest);

  const l2 = layout(env, 'v2');
  const plain = join(env.tmp, 'other.tar');
  await ociArchive(l2.dir, 'v2', plain, 'docker.io/demo/oci:v2');
  const gz = join(env.tmp, 'other-oci.tgz');
  await gzipFile(plain, gz);
  const r2 = await imp(gz);
  okResult(t, r2);
  t.match(r2, { compression: 'gzip', format: 'oci-archive' });
  t.equal((await inspectRaw(`${env.registry.host}/docker.io/demo/oci:v2`))?.digest, l2.image.digest);
});

t.test('oci-archive with a multi-arch index: children first, index digest kept', async (t) => {
  const dir = mkdtempSync(join(env.tmp, 'multi-'));
  const a = buildImage(dir, { tag: 'amd64', architecture: 'amd64' });
  const b = buildImage(dir, { tag: 'arm64', architecture: 'arm64' });
  const idx = buildIndex(dir, 'multi', [
    { image: a, os: 'linux', architecture: 'amd64' },
    { image: b, os: 'linux', architecture: 'arm64' },
  ]);
  const file = join(env.tmp, 'multi.tar');
  await run('skopeo', ['copy', '-q', '--all', `oci:${dir}:multi`, `oci-archive:${file}:docker.io/demo/multi:1`]);
  const r = await imp(file);
  okResult(t, r);
  t.equal(r.images[0]?.digest, idx.digest);
  const got = await inspectRaw(`${env.registry.host}/docker.io/demo/multi:1`);
  t.equal(got?.digest, idx.digest);
  t.ok(await inspectRaw(`${env.registry.host}/docker.io/demo/multi@${b.digest}`), 'arm64 child by digest');
});

t.test('names derived from the file when the archive has none or only a tag', async (t) => {
  const l = layout(env, 'v1');
  const bare = join(env.tmp, 'My Tool_v2.oci.tar');
  await ociArchive(l.dir, 'v1', bare, 'v3');
  const r = await imp(bare);
  okResult(t, r);
  t.match(r.images[0], { ref: 'import.local/my-tool-v2:v3', nameFromFile: true, note: /only the tag "v3"/ });
  t.ok(await inspectRaw(`${env.registry.host}/import.local/my-tool-v2:v3`));
  t.match(await d.store.get('import.local/my-tool-v2:v3'), { state: 'mirrored', importNote: /derived from the file name/ });
  t.ok(d.logs.some((x) => typeof x.msg === 'string' && x.msg.includes('repository derived from the file name')), 'logged');

  const unnamed = join(env.tmp, 'nameless.tar');
  await dockerArchive(l.dir, 'v1', unnamed);
  const r2 = await imp(unnamed);
  okResult(t, r2);
  t.match(r2.images[0], { ref: 'import.local/nameless:latest', nameFromFile: true });
});

t.test('layerCompression none: uncompressed schema2 layers whose digests are the diffIDs', async (t) => {
  const l = layout(env, 'v1');
  const file = join(env.tmp, 'raw.tar');
  await dockerArchive(l.dir, 'v1', file, 'demo/raw:v1');
  const r = await imp(file, { layerCompression: 'none' });
  okResult(t, r);
  const got = await inspectRaw(`${env.registry.host}/docker.io/demo/raw:v1`);
  const cfg = JSON.parse(readFileSync(join(l.dir, 'blobs', 'sha256', JSON.parse(readFileSync(join(l.dir, 'blobs', 'sha256', l.image.digest.slice(7)), 'utf8')).config.digest.slice(7)), 'utf8'));
  t.same(got?.manifest.layers.map((x: any) => x.digest), cfg.rootfs.diff_ids);
  t.same(got?.manifest.layers.map((x: any) => x.mediaType), ['application/vnd.docker.image.rootfs.diff.tar', 'application/vnd.docker.image.rootfs.diff.tar']);
  await pullVerifies(`${env.registry.host}/docker.io/demo/raw:v1`);
});

t.test('bad archives: each fails with its code, names the file, pushes no manifest', async (t) => {
  const l = layout(env, 'v1', { layerSizes: [30000] });
  const good = join(env.tmp, 'src-good.tar');
  await dockerArchive(l.dir, 'v1', good, 'demo/broken:v1');
  const cases: [string, () => Promise<Buffer> | Buffer, string][] = [
    ['xz.tar.xz', () => Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]), 'UNSUPPORTED_COMPRESSION'],
    ['garbage.tar.gz', () => gzipSync(Buffer.from('not a tar at all '.repeat(100))), 'NOT_AN_ARCHIVE'],
    ['empty.tar', () => Buffer.alloc(0), 'NOT_AN_ARCHIVE'],
    ['notimage.tar', () => pack([{ name: 'hello.txt', body: 'hi' }]), 'UNKNOWN_FORMAT'],
    ['abs.tar', () => pack([{ name: '/etc/passwd', body: 'x' }]), 'UNSAFE_ENTRY'],
    ['link.tar', () => pack([{ name: 'manifest.json', type: 'symlink', linkname: '../../etc/passwd' }]), 'UNSAFE_ENTRY'],
    ['badjson.tar', () => pack([{ name: 'manifest.json', body: '{nope' }]), 'CORRUPT'],
    ['missing.tar', () => pack([{ name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['demo/m:1'], Layers: [] }]) }]), 'MISSING_ENTRY'],
    ['oci-missing.tar', () => pack([
      { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
      { name: 'index.json', body: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 10 }] }) },
    ]), 'MISSING_ENTRY'],
    ['truncated.tar.gz', () => gzipSync(readFileSync(good)).subarray(0, 20000), 'TRUNCATED'],
    ['flipped.tar', () => {
      // damage one byte inside the (uncompressed) layer: its diffID no longer matches
      const b = Buffer.from(readFileSync(good));
      const at = b.indexOf(Buffer.from('data/layer0.bin'));
      b[at + 2048] = b[at + 2048]! ^ 0xff;
      return b;
    }, 'CORRUPT'],
  ];
  for (const [name, make, code] of cases) {
    const file = join(env.tmp, name);
    writeFileSync(file, await make());
    const r = await imp(file);
    t.equal(r.error?.code, `FERRY_ERR_IMPORT_${code}`, `${name}: ${r.error?.message}`);
    const ref = r.refs[0]!;
    const rec = await d.store.get(ref);
    t.match(rec, { state: 'error', source: 'import' }, `${name}: error record ${ref}`);
    t.ok(rec?.lastError?.includes(name), `${name}: lastError names the file`);
  }
  t.notOk(await inspectRaw(`${env.registry.host}/docker.io/demo/broken:v1`), 'no manifest pushed for the damaged layer');
  t.match(await d.store.get('docker.io/demo/broken:v1'), { state: 'error', lastError: /flipped\.tar.*diff_id/ });
});

t.test('runImportOnce: exit codes', async (t) => {
  const l = layout(env, 'v9');
  const a = join(env.tmp, 'once-a.tar');
  const b = join(env.tmp, 'once-b.tar');
  await ociArchive(l.dir, 'v9', a, 'docker.io/demo/once:a');
  await dockerArchive(l.dir, 'v9', b, 'demo/once:b');
  t.equal(await runImportOnce([a, b], d.deps, { mirror: engine }), 0);
  t.ok(await inspectRaw(`${env.registry.host}/docker.io/demo/once:a`));
  t.ok(await inspectRaw(`${env.registry.host}/docker.io/demo/once:b`));
  const bad = join(env.tmp, 'once-bad.tar');
  copyFileSync(a, bad);
  writeFileSync(bad, readFileSync(a).subarray(0, statSync(a).size - 2048 * 3));
  t.equal(await runImportOnce([a, bad], d.deps, { mirror: engine }), 1);
  t.equal(await runImportOnce([join(env.tmp, 'does-not-exist.tar')], d.deps), 1);
  t.equal(await runImportOnce([], d.deps), 2);
  // without an injected client it builds (and closes) its own RegistryEngine
  t.equal(await runImportOnce([a], d.deps), 0);
});

t.test("config block rules: a blocked name is recorded as blocked and never tagged in the mirror", async (t) => {
  const b = makeDeps(env);
  t.teardown(() => b.close());
  const blockImp = (file: string) => importFile(file, b.deps, { mirror: engine });
  // a new config object per change, as a hot reload makes (compiled rules are cached per object)
  const setBlock = (block: typeof b.config.block) => {
    const next = { ...b.config, block };
    b.deps.config = () => next;
  };

  // by pattern: refused before anything is pushed
  setBlock([{ pattern: 'docker.io/evil/**', reason: 'CVE-2099-0001' }]);
  const l = layout(env, 'b1');
  const evil = join(env.tmp, 'evil.tar');
  await ociArchive(l.dir, 'b1', evil, 'docker.io/evil/app:b1');
  const r = await blockImp(evil);
  okResult(t, r);
  t.same(r.images, [], 'nothing imported');
  t.match(r.blocked, [{ ref: 'docker.io/evil/app:b1', reason: 'CVE-2099-0001' }]);
  t.equal(r.blobsPushed, 0, 'no blob pushed for a pattern-blocked image');
  t.notOk(await inspectRaw(`${env.registry.host}/docker.io/evil/app:b1`), 'not in the mirror');
  t.match(await b.store.get('docker.io/evil/app:b1'), { state: 'blocked', blockedReason: 'blocked by config: CVE-2099-0001', source: 'import' });
  t.ok(b.logs.some((x) => x.msg === 'image is blocked by config: not imported' && x.ref === 'docker.io/evil/app:b1'), 'logged');

  // by digest, docker-archive: the digest exists only once the layers are pushed; the tag never is
  const l2 = layout(env, 'b2');
  const first = join(env.tmp, 'fine.tar');
  await dockerArchive(l2.dir, 'b2', first, 'demo/fine:b2');
  setBlock([]);
  const ok = await blockImp(first);
  okResult(t, ok);
  const digest = ok.images[0]!.digest;
  setBlock([{ digest, reason: 'known bad build' }]);
  const again = join(env.tmp, 'renamed.tar');
  await dockerArchive(l2.dir, 'b2', again, 'demo/renamed:b2');
  const r2 = await blockImp(again);
  okResult(t, r2);
  t.same(r2.images, []);
  t.match(r2.blocked, [{ ref: 'docker.io/demo/renamed:b2', reason: 'known bad build', digest }]);
  t.notOk(await inspectRaw(`${env.registry.host}/docker.io/demo/renamed:b2`), 'blocked digest not tagged');
  t.match(await b.store.get('docker.io/demo/renamed:b2'), { state: 'blocked', digest, blockedReason: /known bad build/ });

  // `ferry import` fails the script when a name was refused
  t.equal(await runImportOnce([evil], b.deps, { mirror: engine }), 1);
  setBlock([]);
  t.equal(await runImportOnce([first], b.deps, { mirror: engine }), 0);
});

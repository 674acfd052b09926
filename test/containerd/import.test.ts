/**
 * Archives into a real containerd 1.6 (CRI plugin, overlayfs): what `ctr`
 * then sees is the oracle: the image is listed under its name, its target is
 * the archive's digest, every layer snapshot exists, a second import writes
 * nothing, and a bad archive leaves no image behind.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { connectContainerd, CONTAINERD_ERROR_CODES, type ContainerdImages } from '../../src/containerd/index.js';
import { buildImage, buildIndex } from '../support/images.js';
import { containerdUnavailable, startContainerd, type TestContainerd } from '../support/containerd.js';
import { dockerArchive, gzipFile, ociArchive } from '../import/fixtures/helpers.js';

const run = promisify(execFile);
const skip = await containerdUnavailable();
const zstdSkip = await run('zstd', ['--version']).then(
  () => undefined,
  () => 'the zstd CLI is not installed (it makes the zstd archives of this test)',
);
const NS = 'k8s.io';

const tmp = mkdtempSync(join(tmpdir(), 'ferry-ctd-import-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

let ctd: TestContainerd;
let images: ContainerdImages;
if (!skip) {
  ctd = await startContainerd();
  t.teardown(() => ctd.stop());
  images = connectContainerd(ctd.socket, { namespace: NS, snapshotter: 'overlayfs', platform: 'linux/amd64' });
  t.teardown(() => images.close());
}

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`));
  return out;
}
async function snapshots(): Promise<Set<string>> {
  const out = await ctd.ctr(['snapshots', '--snapshotter', 'overlayfs', 'ls']);
  return new Set(out.split('\n').slice(1).map((l) => l.split(/\s+/)[0]!).filter(Boolean));
}
/** The image record as `ctr images ls` prints it: name -> target digest. */
async function imageTargets(): Promise<Map<string, string>> {
  const out = await ctd.ctr(['images', 'ls']);
  const m = new Map<string, string>();
  for (const line of out.split('\n').slice(1)) {
    const cols = line.split(/\s+/);
    if (cols[0] && cols[2]) m.set(cols[0], cols[2]);
  }
  return m;
}
function layoutDir(tag: string, layerSizes: number[], label?: string) {
  const dir = mkdtempSync(join(tmp, 'layout-'));
  const image = buildImage(dir, { tag, layerSizes, ...(label ? { label } : {}) });
  const manifest = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', image.digest.slice(7)), 'utf8'));
  const config = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', manifest.config.digest.slice(7)), 'utf8'));
  return { dir, image, manifest, config, diffIds: config.rootfs.diff_ids as string[] };
}
async function zstdFile(src: string, dst: string): Promise<void> {
  await run('zstd', ['-q', '-f', src, '-o', dst]);
}

t.test('docker-archive, plain / gzip / zstd: listed, unpacked, re-import writes nothing', { skip }, async (t) => {
  const l = layoutDir('v1', [40_000, 70_000]);
  const plain = join(tmp, 'app.tar');
  await dockerArchive(l.dir, 'v1', plain, 'demo/app:v1');

  const r = await images.importArchive(plain);
  t.equal(r.length, 1);
  t.match(r[0], { name: 'docker.io/demo/app:v1', mediaType: 'application/vnd.docker.distribution.manifest.v2+json', unpacked: true });
  t.ok(r[0]!.bytes > 110_000, `wrote the layers (${r[0]!.bytes} bytes)`);
  t.ok((await ctd.imageNames()).includes('docker.io/demo/app:v1'), 'ctr images ls lists it');
  t.equal((await imageTargets()).get('docker.io/demo/app:v1'), r[0]!.digest, 'ctr shows the digest the import reported');
  t.same(await images.getImage('docker.io/demo/app:v1'), { name: 'docker.io/demo/app:v1', digest: r[0]!.digest });

  // the stored manifest names the archive's config and the layers by diffID (uncompressed, as the archive holds them)
  const m = JSON.parse(await ctd.ctr(['content', 'get', r[0]!.digest]));
  t.equal(m.config.digest, l.manifest.config.digest, 'config blob as the archive holds it');
  t.same(m.layers.map((x: { digest: string }) => x.digest), l.diffIds);
  t.same(m.layers.map((x: { mediaType: string }) => x.mediaType), ['application/vnd.docker.image.rootfs.diff.tar', 'application/vnd.docker.image.rootfs.diff.tar']);
  const snaps = await snapshots();
  for (const c of chainIds(l.diffIds)) t.ok(snaps.has(c), `snapshot ${c.slice(0, 19)} committed`);
  // containerd itself says the image is complete and unpacked
  const check = await ctd.ctr(['images', 'check']);
  t.match(check, /docker\.io\/demo\/app:v1\s+\S+\s+\S+\s+complete \(3\/3\)/);
  const labels = await ctd.ctr(['content', 'ls']);
  t.match(labels, new RegExp(`${l.manifest.config.digest}.*containerd\\.io/gc\\.ref\\.snapshot\\.overlayfs=${chainIds(l.diffIds).at(-1)}`), 'config labelled with its top snapshot');

  t.equal((await ctd.ctr(['leases', 'ls', '-q'])).trim(), '', 'the import lease is gone: the image record holds the content now');

  const again = await images.importArchive(plain);
  t.equal(again[0]!.bytes, 0, 're-import writes 0 bytes');
  t.equal(again[0]!.digest, r[0]!.digest);

  const gz = join(tmp, 'app.tar.gz');
  await gzipFile(plain, gz);
  const g = await images.importArchive(gz);
  t.match(g, [{ name: 'docker.io/demo/app:v1', digest: r[0]!.digest, bytes: 0, unpacked: true }], 'gzip: same image, nothing written');

  // a new image through zstd: its content is really written from the zstd stream
  t.test('zstd', { skip: zstdSkip }, async (t) => {
    const z = layoutDir('v2', [50_000]);
    const tar = join(tmp, 'z.tar');
    await dockerArchive(z.dir, 'v2', tar, 'demo/zapp:v2');
    const zst = join(tmp, 'z.tar.zst');
    await zstdFile(tar, zst);
    const zr = await images.importArchive(zst);
    t.match(zr, [{ name: 'docker.io/demo/zapp:v2', unpacked: true }]);
    t.ok(zr[0]!.bytes > 50_000);
    t.ok((await snapshots()).has(z.diffIds[0]!), 'unpacked');
    t.equal((await imageTargets()).get('docker.io/demo/zapp:v2'), zr[0]!.digest);
  });
});

t.test('oci-archive (plain, gzip, zstd): the archive digest, byte for byte', { skip }, async (t) => {
  const l = layoutDir('v1', [30_000, 20_000]);
  const file = join(tmp, 'oci.tar');
  await ociArchive(l.dir, 'v1', file, 'docker.io/demo/oci:v1');
  const r = await images.importArchive(file);
  t.match(r, [{ name: 'docker.io/demo/oci:v1', digest: l.image.digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', unpacked: true }]);
  t.equal((await imageTargets()).get('docker.io/demo/oci:v1'), l.image.digest);
  const snaps = await snapshots();
  t.ok(snaps.has(chainIds(l.diffIds).at(-1)!), 'top chain ID snapshot exists');
  // gzip layers: labelled with their uncompressed digest, as a pull does
  t.match(await ctd.ctr(['content', 'ls']), new RegExp(`${l.image.layers[0]}.*containerd\\.io/uncompressed=${l.diffIds[0]}`));

  const gz = join(tmp, 'oci.tar.gz');
  await gzipFile(file, gz);
  t.match(await images.importArchive(gz), [{ digest: l.image.digest, bytes: 0 }]);
  if (!zstdSkip) {
    const zst = join(tmp, 'oci.tar.zst');
    await zstdFile(file, zst);
    t.match(await images.importArchive(zst), [{ digest: l.image.digest, bytes: 0 }]);
  }

  // an unnamed OCI image gets the registry importer's derived name (skopeo without :ref writes no ref.name)
  const u = layoutDir('v1', [1000]);
  const unnamed = join(tmp, 'My Tool.tar');
  await ociArchive(u.dir, 'v1', unnamed);
  const ur = await images.importArchive(unnamed);
  t.match(ur, [{ name: 'import.local/my-tool:latest', digest: u.image.digest }]);
  t.ok((await ctd.imageNames()).includes('import.local/my-tool:latest'));
});

t.test('multi-platform index: everything stored, only the node platform unpacked', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmp, 'multi-'));
  const amd = buildImage(dir, { tag: 'amd', layerSizes: [10_000], architecture: 'amd64' });
  const arm = buildImage(dir, { tag: 'arm', layerSizes: [12_000], architecture: 'arm64' });
  const idx = buildIndex(dir, 'multi', [
    { image: amd, os: 'linux', architecture: 'amd64' },
    { image: arm, os: 'linux', architecture: 'arm64', variant: 'v8' },
  ]);
  // keep only the index in index.json, named
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  index.manifests = index.manifests
    .filter((m: { digest: string }) => m.digest === idx.digest)
    .map((m: Record<string, unknown>) => ({ ...m, annotations: { 'io.containerd.image.name': 'docker.io/demo/multi:1' } }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  const file = join(tmp, 'multi.tar');
  await run('tar', ['-C', dir, '-cf', file, '.']);
  const r = await images.importArchive(file);
  t.match(r, [{ name: 'docker.io/demo/multi:1', digest: idx.digest, mediaType: 'application/vnd.oci.image.index.v1+json', unpacked: true }]);
  const digestOfLayerTar = (image: typeof amd) => {
    const m = JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', image.digest.slice(7)), 'utf8'));
    return JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', m.config.digest.slice(7)), 'utf8')).rootfs.diff_ids[0] as string;
  };
  const snaps = await snapshots();
  t.ok(snaps.has(digestOfLayerTar(amd)), 'amd64 layer unpacked');
  t.notOk(snaps.has(digestOfLayerTar(arm)), 'arm64 layer not unpacked');
  const content = await ctd.ctr(['content', 'ls', '-q']);
  t.ok(content.includes(arm.digest) && content.includes(arm.layers[0]!), 'the arm64 manifest and layer are stored');
});

t.test('bad archives: typed error, no image left', { skip }, async (t) => {
  const l = layoutDir('v1', [60_000]);
  const good = join(tmp, 'good.tar');
  await dockerArchive(l.dir, 'v1', good, 'demo/broken:v1');
  const bytes = readFileSync(good);
  const flipped = Buffer.from(bytes);
  const at = flipped.indexOf(Buffer.from('data/layer0.bin'));
  flipped[at + 4096] = flipped[at + 4096]! ^ 0xff;
  const escaping = await (async () => {
    const dir = mkdtempSync(join(tmp, 'esc-'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: '../c.json', RepoTags: ['demo/broken:v1'], Layers: [] }]));
    const f = join(tmp, 'escaping.tar');
    await run('tar', ['-C', dir, '--absolute-names', '-cf', f, 'manifest.json', '/etc/hostname']);
    return readFileSync(f);
  })();
  const cases: [string, Buffer, string][] = [
    ['truncated.tar', bytes.subarray(0, Math.floor(bytes.length * 0.7)), CONTAINERD_ERROR_CODES.BAD_ARCHIVE],
    ['flipped.tar', flipped, CONTAINERD_ERROR_CODES.DIGEST_MISMATCH],
    ['escaping.tar', escaping, CONTAINERD_ERROR_CODES.BAD_ARCHIVE],
    ['garbage.tar', Buffer.from('not an archive'), CONTAINERD_ERROR_CODES.BAD_ARCHIVE],
  ];
  for (const [name, b, code] of cases) {
    const f = join(tmp, name);
    writeFileSync(f, b);
    const err = await images.importArchive(f).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message?: string; details?: Record<string, unknown> },
    );
    t.equal(err?.code, code, `${name}: ${err?.code} ${err?.message}`);
  }
  t.notOk((await ctd.imageNames()).includes('docker.io/demo/broken:v1'), 'no image record from a bad archive');
  t.notOk(await images.getImage('docker.io/demo/broken:v1'));
  t.equal((await ctd.ctr(['leases', 'ls', '-q'])).trim(), '', 'failed imports leave no lease behind');
});

t.test('containerd unreachable: CONTAINERD_UNREACHABLE quickly, with a socket hint', async (t) => {
  const gone = connectContainerd(join(tmp, 'no-such.sock'), { namespace: NS, snapshotter: 'overlayfs' });
  t.teardown(() => gone.close());
  const f = join(tmp, 'x.tar');
  writeFileSync(f, 'x');
  const t0 = Date.now();
  const err = (await gone.importArchive(f).catch((e: unknown) => e)) as { code?: string; hint?: string };
  t.equal(err.code, CONTAINERD_ERROR_CODES.UNREACHABLE);
  t.match(err.hint, /socket/);
  t.ok(Date.now() - t0 < 5000, `failed in ${Date.now() - t0} ms`);
  const bad = connectContainerd('tcp://127.0.0.1:1', { namespace: NS, snapshotter: 'overlayfs' });
  t.equal(((await bad.getImage('x').catch((e: unknown) => e)) as { code?: string }).code, CONTAINERD_ERROR_CODES.UNREACHABLE, 'not a unix socket');
  bad.close();
});

import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import tar from 'tar-stream';
import { decodeHeader, indexPlainTar, resolveLinkTarget, safeEntryName, type TarEntry } from '../../src/archive/tar.js';
import { ociName, sanitizedBaseName, dockerNames } from '../../src/archive/naming.js';
import { buildImage, sealTarHeader } from '../support/images.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'ferry-tar-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

async function ours(file: string): Promise<TarEntry[]> {
  const fh = await open(file);
  try {
    return (await indexPlainTar(fh, (await fh.stat()).size)).entries;
  } finally {
    await fh.close();
  }
}

/** The same index as tar-stream sees it (offsets from header.byteOffset). */
async function theirs(file: string): Promise<{ name: string; size: number; offset: number }[]> {
  const ex = tar.extract();
  const out: { name: string; size: number; offset: number }[] = [];
  const done = (async () => {
    for await (const e of ex) {
      const h = e.header as tar.Header & { byteOffset: number };
      if (h.type === 'file') out.push({ name: h.name.replace(/^\.\//, ''), size: h.size, offset: h.byteOffset });
      e.resume();
    }
  })();
  ex.end(readFileSync(file));
  await done;
  return out;
}

async function sameAsTarStream(t: Test, file: string): Promise<TarEntry[]> {
  const a = await ours(file);
  const files = a.filter((e) => e.type === 'file').map((e) => ({ name: e.name, size: e.size, offset: e.offset }));
  t.same(files, await theirs(file), `index of ${file.split('/').pop()} equals tar-stream's`);
  return a;
}

t.test('pass 1 index equals tar-stream: skopeo docker-archive and oci-archive, pax and GNU long names', async (t) => {
  const layout = join(tmp, 'layout');
  buildImage(layout, { tag: 'v1', layerSizes: [1000, 70000] });
  await run('skopeo', ['copy', '-q', `oci:${layout}:v1`, `docker-archive:${join(tmp, 'd.tar')}:demo/x:v1`]);
  await run('skopeo', ['copy', '-q', `oci:${layout}:v1`, `oci-archive:${join(tmp, 'o.tar')}:v1`]);
  const d = await sameAsTarStream(t, join(tmp, 'd.tar'));
  t.ok(d.some((e) => e.type === 'symlink' && e.name.endsWith('/layer.tar') && !e.target!.includes('..')), 'legacy layer.tar symlinks resolved inside the archive');
  await sameAsTarStream(t, join(tmp, 'o.tar'));

  const long = `${'a'.repeat(120)}/${'b'.repeat(110)}.bin`;
  const p = tar.pack();
  p.entry({ name: long }, Buffer.alloc(1234, 1));
  p.entry({ name: 'short.txt' }, 'x');
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  writeFileSync(join(tmp, 'pax.tar'), Buffer.concat(chunks));
  const pax = await sameAsTarStream(t, join(tmp, 'pax.tar'));
  t.equal(pax[0]?.name, long);

  const src = join(tmp, 'gnu-src');
  mkdirSync(join(src, 'c'.repeat(90)), { recursive: true });
  writeFileSync(join(src, 'c'.repeat(90), 'd'.repeat(90)), 'gnu');
  symlinkSync(`${'d'.repeat(90)}`, join(src, 'c'.repeat(90), 'link'));
  await run('tar', ['--format=gnu', '-cf', join(tmp, 'gnu.tar'), '-C', src, '.']);
  const gnu = await sameAsTarStream(t, join(tmp, 'gnu.tar'));
  t.ok(gnu.some((e) => e.name === `${'c'.repeat(90)}/${'d'.repeat(90)}` && e.size === 3));
  t.ok(gnu.some((e) => e.type === 'symlink' && e.target === `${'c'.repeat(90)}/${'d'.repeat(90)}`));
});

t.test('truncation and damage', async (t) => {
  const full = readFileSync(join(tmp, 'd.tar'));
  for (const [cut, code] of [
    [full.length - 1024, 'TRUNCATED'], // end-of-archive marker gone
    [Math.floor(full.length / 2), 'TRUNCATED'],
    [700, 'TRUNCATED'],
  ] as const) {
    writeFileSync(join(tmp, 'cut.tar'), full.subarray(0, cut));
    await t.rejects(ours(join(tmp, 'cut.tar')), { code: `FERRY_ERR_IMPORT_${code}` }, `cut at ${cut}`);
  }
  const bad = Buffer.from(full);
  const second = 512 + Math.ceil(Number.parseInt(full.toString('latin1', 124, 135), 8) / 512) * 512;
  bad[second + 10] = bad[second + 10]! ^ 0x55;
  writeFileSync(join(tmp, 'bad.tar'), bad);
  await t.rejects(ours(join(tmp, 'bad.tar')), { code: 'FERRY_ERR_IMPORT_CORRUPT' });
});

t.test('entry names and link targets', async (t) => {
  t.equal(safeEntryName('./a//b/./c/'), 'a/b/c');
  t.equal(safeEntryName('manifest.json'), 'manifest.json');
  for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'a/..', 'C:\\x', '..\\x', 'a\0b']) {
    t.throws(() => safeEntryName(bad), { code: 'FERRY_ERR_IMPORT_UNSAFE_ENTRY' }, JSON.stringify(bad));
  }
  t.equal(resolveLinkTarget('v1id/layer.tar', '../abc.tar', 'symlink'), 'abc.tar');
  t.equal(resolveLinkTarget('a/b', 'c/d', 'link'), 'c/d', 'hard links are archive paths');
  t.throws(() => resolveLinkTarget('x', '../y', 'symlink'), { code: 'FERRY_ERR_IMPORT_UNSAFE_ENTRY' });
  t.throws(() => resolveLinkTarget('x', '/y', 'symlink'), { code: 'FERRY_ERR_IMPORT_UNSAFE_ENTRY' });
});

t.test('GNU base-256 sizes (entries of 8 GiB and more)', async (t) => {
  const h = Buffer.alloc(512);
  h.write('big.bin', 0);
  h.write('0000644\0', 100);
  h[124] = 0x80;
  h.writeUIntBE(10 * 1024 ** 3, 124 + 6, 6); // 10 GiB
  h.write('0', 156);
  h.write('ustar  \0', 257);
  sealTarHeader(h);
  t.equal(decodeHeader(h, 0)?.size, 10 * 1024 ** 3);
  t.equal(decodeHeader(Buffer.alloc(512), 0), null, 'zero block = end');
});

t.test('names', async (t) => {
  t.equal(sanitizedBaseName('/x/My App_v2.tar.gz'), 'my-app-v2');
  t.equal(sanitizedBaseName('app.oci.tar'), 'app');
  t.equal(sanitizedBaseName('...tar'), 'image');
  t.same(ociName({ 'org.opencontainers.image.ref.name': 'v1' }, '/d/app.tar', 'sha256:x', 1), {
    ref: 'import.local/app:v1',
    fromFile: true,
    note: 'oci-archive names only the tag "v1": repository derived from the file name',
  });
  t.match(ociName({ 'org.opencontainers.image.ref.name': 'docker.io/library/nginx:1.27' }, '/d/a.tar', 'sha256:x', 1), { ref: 'docker.io/library/nginx:1.27', fromFile: false });
  t.match(ociName({ 'io.containerd.image.name': 'nginx:1.27', 'org.opencontainers.image.ref.name': '1.27' }, '/d/a.tar', 'sha256:x', 1), { ref: 'docker.io/library/nginx:1.27' });
  t.match(ociName(undefined, '/d/a.tar', 'sha256:abc', 2), { ref: 'import.local/a@sha256:abc', fromFile: true });
  t.match(ociName(undefined, '/d/a.tar', 'sha256:abc', 1), { ref: 'import.local/a:latest' });
  const dn = dockerNames(['demo/app:v1', 'Bad Name', 'demo/app:v1'], '/d/a.tar');
  t.same(dn.names, [{ ref: 'docker.io/demo/app:v1', fromFile: false }]);
  t.equal(dn.skipped.length, 1);
  t.match(dockerNames(null, '/d/x.tar').names, [{ ref: 'import.local/x:latest', fromFile: true }]);
});

/**
 * zstd-compressed archives (`docker save | zstd`, `skopeo ... | zstd`): read
 * like gzip'd ones (two passes, nothing extracted), the same digests land in
 * the mirror, and a damaged or hostile zstd stream fails with its code.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openArchive } from '../../src/import/index.js';
import { zstdWindowSize } from '../../src/archive/archive.js';
import { inspectRaw } from '../support/images.js';
import { dockerArchive, fileImports, layout, ociArchive, startEnv } from './fixtures/helpers.js';

const run = promisify(execFile);
const zstdCli = await run('zstd', ['--version']).then(
  () => undefined,
  () => 'the zstd CLI is not installed (it makes the zstd archives of this test)',
);

const env = await startEnv();
t.teardown(() => env.close());
const { imp } = fileImports(t, env);

async function zstdFile(src: string, dst: string, args: string[] = []): Promise<void> {
  await run('zstd', ['-q', '-f', ...args, src, '-o', dst]);
}

t.test('docker-archive and oci-archive, zstd-compressed: same images as the plain tar', { skip: zstdCli }, async (t) => {
  const l = layout(env, 'z1', { layerSizes: [300_000, 5000] });
  const plain = join(env.tmp, 'z-docker.tar');
  await dockerArchive(l.dir, 'z1', plain, 'demo/zd:z1');
  const zst = join(env.tmp, 'z-docker.tar.zst');
  await zstdFile(plain, zst);

  const a = await openArchive(zst);
  t.teardown(() => a.close());
  t.equal(a.compression, 'zstd');
  const p = await openArchive(plain);
  t.teardown(() => p.close());
  t.same(
    a.index.entries.map((e) => [e.name, e.size]),
    p.index.entries.map((e) => [e.name, e.size]),
    'pass 1 indexes the same entries as the plain tar',
  );

  const r = await imp(zst);
  t.ok(r.ok, r.error?.message ?? 'imported');
  t.equal(r.compression, 'zstd');
  const got = await inspectRaw(`${env.registry.host}/docker.io/demo/zd:z1`);
  t.equal(got?.digest, r.images[0]?.digest, 'the mirror serves what the import reported');
  const r2 = await imp(plain);
  t.equal(r2.images[0]?.digest, r.images[0]?.digest, 'the plain tar gives the same manifest');

  const oci = join(env.tmp, 'z-oci.tar');
  await ociArchive(l.dir, 'z1', oci, 'docker.io/demo/zo:z1');
  const ociZst = join(env.tmp, 'z-oci.tar.zst');
  await zstdFile(oci, ociZst);
  const r3 = await imp(ociZst);
  t.ok(r3.ok, r3.error?.message ?? 'imported');
  t.equal(r3.images[0]?.digest, l.image.digest, 'oci-archive: the archive digest, byte for byte');

  // two zstd frames back to back (what `cat a.zst b.zst` or a parallel compressor writes) read as one stream
  const buf = readFileSync(oci);
  const half = Math.floor(buf.length / 2);
  writeFileSync(join(env.tmp, 'part1'), buf.subarray(0, half));
  writeFileSync(join(env.tmp, 'part2'), buf.subarray(half));
  await zstdFile(join(env.tmp, 'part1'), join(env.tmp, 'part1.zst'));
  await zstdFile(join(env.tmp, 'part2'), join(env.tmp, 'part2.zst'));
  const twoFrames = join(env.tmp, 'z-two-frames.tar.zst');
  writeFileSync(twoFrames, Buffer.concat([readFileSync(join(env.tmp, 'part1.zst')), readFileSync(join(env.tmp, 'part2.zst'))]));
  const r4 = await imp(twoFrames);
  t.ok(r4.ok, r4.error?.message ?? 'imported');
  t.equal(r4.images[0]?.digest, l.image.digest, 'two frames: same image');
});

t.test('bad zstd archives fail with their code', { skip: zstdCli }, async (t) => {
  const l = layout(env, 'z2', { layerSizes: [200_000] });
  const plain = join(env.tmp, 'zb.tar');
  await dockerArchive(l.dir, 'z2', plain, 'demo/zbad:z2');
  const zst = join(env.tmp, 'zb.tar.zst');
  await zstdFile(plain, zst);
  const whole = readFileSync(zst);

  const cases: [string, Buffer, string][] = [
    ['truncated.tar.zst', whole.subarray(0, Math.floor(whole.length * 0.6)), 'TRUNCATED'],
    // a frame header asking for a 2 GiB window: refused before anything is allocated
    ['hostile-window.tar.zst', Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8]), Buffer.alloc(600)]), 'UNSUPPORTED_COMPRESSION'],
    ['not-a-tar.zst', await (async () => {
      const f = join(env.tmp, 'text');
      writeFileSync(f, 'hello, not a tar\n'.repeat(200));
      await zstdFile(f, `${f}.zst`);
      return readFileSync(`${f}.zst`);
    })(), 'NOT_AN_ARCHIVE'],
  ];
  // flip a byte in the middle of the compressed data: the decoder or the tar/diffID checks catch it
  const flipped = Buffer.from(whole);
  const mid = Math.floor(flipped.length / 2);
  flipped[mid] = flipped[mid]! ^ 0xff;
  cases.push(['flipped.tar.zst', flipped, 'CORRUPT|TRUNCATED']);

  for (const [name, bytes, code] of cases) {
    const file = join(env.tmp, name);
    writeFileSync(file, bytes);
    const r = await imp(file);
    t.notOk(r.ok, `${name} fails`);
    t.match(r.error?.code, new RegExp(`^FERRY_ERR_IMPORT_(${code})$`), `${name}: ${r.error?.code} ${r.error?.message}`);
  }
  t.notOk(await inspectRaw(`${env.registry.host}/docker.io/demo/zbad:z2`), 'no manifest pushed from a bad zstd archive');
});

t.test('zstdWindowSize reads the frame header', async (t) => {
  // window descriptor 0x58: exponent 11 -> 2^21, mantissa 0
  t.equal(zstdWindowSize(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58])), 2 ** 21);
  // exponent 17 (2^27), mantissa 4: 2^27 + 4 * 2^24
  t.equal(zstdWindowSize(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 << 3) | 4])), 2 ** 27 + 4 * 2 ** 24);
  // single segment, 2-byte content size 1000 - 256 = 744 stored
  t.equal(zstdWindowSize(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x60, 744 & 0xff, 744 >> 8])), 1000);
  // single segment, 1-byte content size
  t.equal(zstdWindowSize(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 77])), 77);
  t.equal(zstdWindowSize(Buffer.from([0x28, 0xb5])), 0, 'short header');
});

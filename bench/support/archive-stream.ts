/**
 * Big image archives made fast, streamed, without skopeo: layers are tars of
 * one file of AES-CTR keystream (random-looking, the same every run for one
 * seed), so an archive of any size is written at disk speed and hashed twice
 * (once for its diffIDs, once while writing) without being held in memory.
 */
import { createCipheriv } from 'node:crypto';
import { tarHeader, tarPadding } from '../../test/support/images.js';

const MiB = 1024 * 1024;

/** `n` pseudo-random bytes, the same every time for one `seed` (AES-128-CTR keystream). */
export async function* keystream(n: number, seed = 7): AsyncGenerator<Buffer> {
  const c = createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16, 1));
  const zero = Buffer.alloc(MiB);
  for (let left = n; left > 0; left -= MiB) yield c.update(left >= MiB ? zero : zero.subarray(0, left));
}

/** Bytes of layerTar(n): header, body, padding, end-of-archive blocks. */
export const layerTarSize = (n: number): number => 512 + n + tarPadding(n).length + 1024;

/** A layer: a tar holding one file `name` of `n` keystream bytes. */
export async function* layerTar(n: number, name = 'data/random.bin', seed = 7): AsyncGenerator<Buffer> {
  yield tarHeader(name, n);
  yield* keystream(n, seed);
  yield tarPadding(n);
  yield Buffer.alloc(1024);
}

/** One entry of the archive's outer tar. */
export async function* tarEntry(name: string, size: number, body: AsyncIterable<Buffer> | Buffer): AsyncGenerator<Buffer> {
  yield tarHeader(name, size);
  if (Buffer.isBuffer(body)) yield body;
  else yield* body;
  yield tarPadding(size);
}

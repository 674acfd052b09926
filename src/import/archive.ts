/**
 * An image archive on disk, read in two passes and never whole.
 *
 * Detection is by content: gzip magic -> gzip; zstd / xz / bzip2 magic ->
 * refused with a hint; otherwise the first 512 bytes must be a tar header.
 *
 * Plain tar: pass 1 = `indexPlainTar` (headers only, positioned reads); pass 2
 * streams each needed body with `FileHandle.createReadStream({start, end})`,
 * several at once, in any order. Small metadata (manifest.json, index.json,
 * configs, manifests) is read by offset when asked for.
 *
 * gzip: the compressed file is streamed twice through zlib + tar-stream (no
 * temporary file, no extra disk): pass 1 indexes the entries and keeps in
 * memory only small JSON entries (<= 4 MiB each, 64 MiB in all: manifests,
 * configs, index.json, ...); pass 2 decompresses again and hands the wanted
 * bodies to the handler in archive order, one at a time, skipping the rest. It
 * stops decompressing after the last wanted entry. The price is decompressing
 * twice (CPU) instead of writing the whole uncompressed archive to a temp file
 * (disk space and I/O equal to the uncompressed size).
 */
import { constants, createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { asImportFailure, importError, isImportError } from './errors.js';
import { ArchiveIndex, decodeHeader, IndexBuilder, indexPlainTar, typeOfTarStream, type TarEntry } from './tar.js';

export type Compression = 'none' | 'gzip';

/** Largest single metadata entry read into memory. */
export const META_MAX = 4 * 1024 * 1024;
/** Most metadata a gzip'd archive may make us keep from pass 1. */
export const META_TOTAL_MAX = 64 * 1024 * 1024;
const READ_CHUNK = 256 * 1024;

export type BodyHandler = (entry: TarEntry, body: AsyncIterable<Buffer>) => Promise<void>;

export interface Archive {
  readonly path: string;
  readonly compression: Compression;
  /** Size of the file on disk. */
  readonly fileSize: number;
  readonly index: ArchiveIndex;
  /** A metadata entry's bytes (<= META_MAX). */
  readSmall(entry: TarEntry, what: string): Promise<Buffer>;
  /**
   * Pass 2: calls `handler` with the body of each entry. Plain tars run up to
   * `concurrency` handlers at once; gzip'd ones one at a time, in archive order.
   * A body the handler leaves unread is skipped.
   */
  forEach(entries: TarEntry[], handler: BodyHandler, opts: { concurrency: number; signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
}

const MAGIC: [string, number[]][] = [
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['bzip2', [0x42, 0x5a, 0x68]],
];

function startsWith(buf: Buffer, bytes: number[]): boolean {
  return bytes.every((b, i) => buf[i] === b);
}

/** Runs `fn` over `items`, at most `n` at a time; the first error stops new work and is thrown. */
export async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        if (failed === undefined) failed = e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

/** Opens and indexes (pass 1) an archive. Throws import errors; the handle is closed on failure. */
export async function openArchive(path: string, signal?: AbortSignal): Promise<Archive> {
  const fh = await open(path, constants.O_RDONLY);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw importError('NOT_AN_ARCHIVE', `${path} is not a regular file`);
    if (st.size === 0) throw importError('NOT_AN_ARCHIVE', 'empty file');
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    if (startsWith(head, [0x1f, 0x8b])) {
      return await GzipArchive.open(path, fh, st.size, signal);
    }
    for (const [name, bytes] of MAGIC) {
      if (startsWith(head, bytes)) throw importError('UNSUPPORTED_COMPRESSION', `${name}-compressed archive`);
    }
    if (bytesRead < 512) throw importError('NOT_AN_ARCHIVE', `not a tar archive (${st.size} bytes, shorter than one tar header)`);
    try {
      decodeHeader(head, 0);
    } catch {
      throw importError('NOT_AN_ARCHIVE', 'not a tar archive (no valid tar header at the start, and not gzip)');
    }
    const index = await indexPlainTar(fh, st.size, signal);
    return new PlainArchive(path, fh, st.size, index);
  } catch (e) {
    await fh.close().catch(() => {});
    throw e;
  }
}

class PlainArchive implements Archive {
  readonly compression = 'none' as const;
  constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly fileSize: number,
    readonly index: ArchiveIndex,
  ) {}

  async readSmall(entry: TarEntry, what: string): Promise<Buffer> {
    if (entry.size > META_MAX) throw importError('TOO_LARGE', `${what} ${JSON.stringify(entry.name)} has ${entry.size} bytes (at most ${META_MAX})`);
    const buf = Buffer.alloc(entry.size);
    const { bytesRead } = await this.fh.read(buf, 0, entry.size, entry.offset);
    if (bytesRead !== entry.size) throw importError('CHANGED', `${what} ${JSON.stringify(entry.name)}: file shrank while being read`);
    return buf;
  }

  private async *body(e: TarEntry, signal?: AbortSignal): AsyncGenerator<Buffer> {
    if (e.size === 0) return;
    // a positioned read stream on the already-open handle: a file renamed or replaced meanwhile is still the file we indexed
    const rs = this.fh.createReadStream({ start: e.offset, end: e.offset + e.size - 1, autoClose: false, highWaterMark: READ_CHUNK });
    let n = 0;
    try {
      for await (const c of rs as AsyncIterable<Buffer>) {
        signal?.throwIfAborted();
        n += c.length;
        yield c;
      }
    } finally {
      rs.destroy();
    }
    if (n !== e.size) throw importError('CHANGED', `entry ${JSON.stringify(e.name)}: read ${n} of ${e.size} bytes (file shrank?)`);
  }

  async forEach(entries: TarEntry[], handler: BodyHandler, opts: { concurrency: number; signal?: AbortSignal }): Promise<void> {
    const sorted = [...entries].sort((a, b) => a.offset - b.offset);
    await pool(sorted, opts.concurrency, async (e) => {
      opts.signal?.throwIfAborted();
      await handler(e, this.body(e, opts.signal));
    });
  }

  close(): Promise<void> {
    return this.fh.close().catch(() => {});
  }
}

function isMetaCandidate(name: string, size: number): 'name' | 'sniff' | false {
  if (size > META_MAX) return false;
  if (!name.includes('/') && (name.endsWith('.json') || name === 'oci-layout' || name === 'repositories')) return 'name';
  if (name.startsWith('blobs/')) return 'sniff'; // kept only if it starts like JSON (manifests, indexes, configs)
  return false;
}

type TarStreamEntry = tar.Headers & { byteOffset?: number };

class GzipArchive implements Archive {
  readonly compression = 'gzip' as const;
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly fileSize: number,
    readonly index: ArchiveIndex,
    private readonly small: Map<number, Buffer>,
  ) {}

  /** Streams the decompressed tar of the file through tar-stream, calling `onEntry` for every entry. */
  private static stream(
    fh: FileHandle,
    onEntry: (h: TarStreamEntry, body: NodeJS.ReadableStream & AsyncIterable<Buffer>, ordinal: number) => Promise<'continue' | 'stop'>,
    signal?: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const rs = createReadStream('', { fd: fh, start: 0, autoClose: false, highWaterMark: READ_CHUNK } as never) as ReturnType<typeof createReadStream>;
      const gunzip = createGunzip({ chunkSize: 64 * 1024 });
      const extract = tar.extract({ allowUnknownFormat: true });
      let ordinal = 0;
      let stopped = false;
      let settled = false;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () => {
        const err = importError('ABORTED', 'import cancelled', { cause: signal?.reason });
        rs.destroy(err);
        finish(err);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      extract.on('entry', (header: TarStreamEntry, body, next) => {
        const n = ordinal++;
        onEntry(header, body as never, n).then(
          async (what) => {
            if (what === 'stop') {
              stopped = true;
              rs.destroy();
              finish();
              return;
            }
            body.resume();
            for await (const _ of body as AsyncIterable<Buffer>) {
              /* skip the rest of this body */
            }
            next();
          },
          (err) => {
            rs.destroy(err);
            finish(err);
          },
        );
      });
      pipeline(rs, gunzip, extract, (err) => {
        if (stopped) return finish();
        finish(err ? asImportFailure(err) : undefined);
      });
    });
  }

  static async open(path: string, fh: FileHandle, fileSize: number, signal?: AbortSignal): Promise<GzipArchive> {
    const b = new IndexBuilder();
    const small = new Map<number, Buffer>();
    let kept = 0;
    try {
      await GzipArchive.stream(
        fh,
        async (h, body) => {
          const type = typeOfTarStream(h.type);
          const size = type === 'file' ? h.size ?? 0 : 0;
          const e = b.add({ name: h.name, type, size, linkname: h.linkname ?? null }, h.byteOffset ?? -1);
          const why = type === 'file' ? isMetaCandidate(e.name, size) : false;
          if (why && size > 0) {
            const chunks: Buffer[] = [];
            let n = 0;
            for await (const c of body) {
              if (n === 0 && why === 'sniff' && c[0] !== 0x7b /* { */) break;
              chunks.push(c);
              n += c.length;
            }
            if (n === size) {
              kept += n;
              if (kept > META_TOTAL_MAX) throw importError('TOO_LARGE', `more than ${META_TOTAL_MAX} bytes of metadata in a gzip'd archive`);
              small.set(e.ordinal, Buffer.concat(chunks, n));
            }
          }
          return 'continue';
        },
        signal,
      );
    } catch (e) {
      if (b.index.entries.length === 0 && isImportError(e, 'CORRUPT')) {
        throw importError('NOT_AN_ARCHIVE', `gzip file does not hold a tar archive (${e.message})`);
      }
      throw e;
    }
    if (b.index.entries.length === 0) throw importError('NOT_AN_ARCHIVE', 'gzip file holds an empty tar');
    return new GzipArchive(path, fh, fileSize, b.index, small);
  }

  async readSmall(entry: TarEntry, what: string): Promise<Buffer> {
    const buf = this.small.get(entry.ordinal);
    if (buf) return buf;
    if (entry.size === 0) return Buffer.alloc(0);
    if (entry.size > META_MAX) throw importError('TOO_LARGE', `${what} ${JSON.stringify(entry.name)} has ${entry.size} bytes (at most ${META_MAX})`);
    throw importError('CORRUPT', `${what} ${JSON.stringify(entry.name)} is not JSON`);
  }

  async forEach(entries: TarEntry[], handler: BodyHandler, opts: { concurrency: number; signal?: AbortSignal }): Promise<void> {
    const wanted = new Map<number, TarEntry>();
    for (const e of entries) wanted.set(e.ordinal, e);
    if (wanted.size === 0) return;
    let left = wanted.size;
    await GzipArchive.stream(
      this.fh,
      async (_h, body, ordinal) => {
        const e = wanted.get(ordinal);
        if (!e) return 'continue';
        let n = 0;
        const counted = (async function* () {
          for await (const c of body) {
            n += c.length;
            yield c;
          }
        })();
        await handler(e, counted);
        // a handler that did not read (blob already in the mirror) leaves the rest to be skipped
        void n;
        return --left === 0 ? 'stop' : 'continue';
      },
      opts.signal,
    );
    if (left > 0) throw importError('CHANGED', `${left} entries indexed in pass 1 were not found in pass 2 (file changed?)`);
  }

  close(): Promise<void> {
    this.small.clear();
    return this.fh.close().catch(() => {});
  }
}

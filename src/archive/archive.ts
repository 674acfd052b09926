/**
 * An image archive on disk, read in two passes and never whole.
 *
 * Detection is by content: gzip magic -> gzip; zstd magic -> zstd; xz /
 * bzip2 magic -> refused with a hint; otherwise the first 512 bytes must be a
 * tar header.
 *
 * Plain tar: pass 1 = `indexPlainTar` (headers only, positioned reads); pass 2
 * streams each needed body with `FileHandle.createReadStream({start, end})`,
 * several at once, in any order. Small metadata (manifest.json, index.json,
 * configs, manifests) is read by offset when asked for.
 *
 * gzip and zstd: the compressed file is streamed twice through the
 * decompressor (zlib, or fzstd's streaming Decompress) + tar-stream (no
 * temporary file, no extra disk): pass 1 indexes the entries and keeps in
 * memory only small JSON entries (<= 4 MiB each, 64 MiB in all: manifests,
 * configs, index.json, ...); pass 2 decompresses again and hands the wanted
 * bodies to the handler in archive order, one at a time, skipping the rest. It
 * stops decompressing after the last wanted entry. The price is decompressing
 * twice (CPU) instead of writing the whole uncompressed archive to a temp file
 * (disk space and I/O equal to the uncompressed size). fzstd is pure
 * JavaScript: slower than zlib, but it needs no native build, and its memory
 * is bounded by the frame's window (8 MiB at `zstd -3`, up to the window a
 * `--long` archive declares).
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import tar from 'tar-stream';
import { pool } from '../async/index.js';
import { asImportFailure, importError, isImportError } from './errors.js';
import { ArchiveIndex, decodeHeader, IndexBuilder, indexPlainTar, typeOfTarStream, type TarEntry } from './tar.js';

export type Compression = 'none' | 'gzip' | 'zstd';
type StreamCompression = Exclude<Compression, 'none'>;

/** Largest single metadata entry read into memory. */
export const META_MAX = 4 * 1024 * 1024;
/** Most metadata a gzip'd archive may make us keep from pass 1. */
export const META_TOTAL_MAX = 64 * 1024 * 1024;
const READ_CHUNK = 1024 * 1024;

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
   * `concurrency` handlers at once; gzip'd and zstd'd ones one at a time, in archive order.
   * A body the handler leaves unread is skipped.
   */
  forEach(entries: TarEntry[], handler: BodyHandler, opts: { concurrency: number; signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
/** Magic numbers of compressions that are refused (with a hint). */
const MAGIC: [string, number[]][] = [
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['bzip2', [0x42, 0x5a, 0x68]],
];

/**
 * The decoder allocates the window a zstd frame declares (up to 2 GiB in the
 * format): refuse more than `zstd --long` (27) uses, so a hostile header cannot
 * make the process allocate gigabytes. Only the first frame is checked here.
 */
export const ZSTD_WINDOW_MAX = 128 * 1024 * 1024;

/** Window size declared by the zstd frame header at the start of `h` (RFC 8878 3.1.1.1); a short header reads as 0. */
export function zstdWindowSize(h: Buffer): number {
  if (h.length < 6) return 0;
  const flags = h[4]!;
  const singleSegment = (flags >> 5) & 1;
  if (!singleSegment) {
    const wd = h[5]!;
    const base = 2 ** (10 + (wd >> 3));
    return base + (base / 8) * (wd & 7);
  }
  // single segment: the window is the whole frame content, whose size follows the dictionary id
  const dictBytes = [0, 1, 2, 4][flags & 3]!;
  const fcsFlag = flags >> 6;
  const sizeBytes = fcsFlag === 0 ? 1 : 1 << fcsFlag;
  const at = 5 + dictBytes;
  if (h.length < at + sizeBytes) return 0;
  let size = 0;
  for (let i = sizeBytes - 1; i >= 0; i--) size = size * 256 + h[at + i]!;
  return sizeBytes === 2 ? size + 256 : size;
}

function startsWith(buf: Buffer, bytes: number[]): boolean {
  return bytes.every((b, i) => buf[i] === b);
}

/**
 * `size` bytes at `start` of an open file, in fresh chunks, by positioned
 * reads: several may run at once on one handle, and the handle stays open
 * (a FileHandle read stream closes its handle when destroyed, even with
 * autoClose: false).
 */
export async function* readRange(fh: FileHandle, start: number, size: number, signal: AbortSignal | undefined, short: () => Error): AsyncGenerator<Buffer> {
  let pos = start;
  const end = start + size;
  while (pos < end) {
    signal?.throwIfAborted();
    const want = Math.min(READ_CHUNK, end - pos);
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await fh.read(buf, 0, want, pos);
    if (bytesRead === 0) throw short();
    pos += bytesRead;
    yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
  }
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
    if (startsWith(head, GZIP_MAGIC)) return await StreamedArchive.open('gzip', path, fh, st.size, signal);
    if (startsWith(head, ZSTD_MAGIC)) {
      const window = zstdWindowSize(head.subarray(0, bytesRead));
      if (window > ZSTD_WINDOW_MAX) {
        throw importError('UNSUPPORTED_COMPRESSION', `zstd frame asks for a ${Math.ceil(window / 2 ** 20)} MiB window (ferry decompresses with at most ${ZSTD_WINDOW_MAX / 2 ** 20} MiB)`);
      }
      return await StreamedArchive.open('zstd', path, fh, st.size, signal);
    }
    for (const [name, bytes] of MAGIC) {
      if (startsWith(head, bytes)) throw importError('UNSUPPORTED_COMPRESSION', `${name}-compressed archive`);
    }
    if (bytesRead < 512) throw importError('NOT_AN_ARCHIVE', `not a tar archive (${st.size} bytes, shorter than one tar header)`);
    try {
      decodeHeader(head, 0);
    } catch {
      throw importError('NOT_AN_ARCHIVE', 'not a tar archive (no valid tar header at the start, and neither gzip nor zstd)');
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

  private body(e: TarEntry, signal?: AbortSignal): AsyncGenerator<Buffer> {
    return readRange(this.fh, e.offset, e.size, signal, () =>
      importError('CHANGED', `entry ${JSON.stringify(e.name)}: the file ended early (shrank while being read?)`),
    );
  }

  async forEach(entries: TarEntry[], handler: BodyHandler, opts: { concurrency: number; signal?: AbortSignal }): Promise<void> {
    const sorted = [...entries].sort((a, b) => a.offset - b.offset);
    await pool(sorted, opts.concurrency, undefined, async (e) => {
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

type TarStreamEntry = tar.Header & { byteOffset?: number };

/**
 * fzstd's streaming Decompress as a Transform. Its errors become import
 * errors here (fzstd's are plain Errors with a numeric code): an input that
 * ends inside a frame is TRUNCATED, anything else it cannot decode CORRUPT.
 */
function createZstdDecompress(): Transform {
  let out: Transform;
  const z = new ZstdDecompress((chunk) => {
    // copied: fzstd may hand out views of its window, which it reuses
    if (chunk.length > 0) out.push(Buffer.from(chunk));
  });
  const asError = (e: unknown) => {
    const code = (e as { code?: unknown })?.code;
    const msg = e instanceof Error ? e.message : String(e);
    return importError(code === 5 ? 'TRUNCATED' : 'CORRUPT', `zstd stream: ${msg}`, { cause: e });
  };
  out = new Transform({
    highWaterMark: READ_CHUNK,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        z.push(chunk);
        cb();
      } catch (e) {
        cb(asError(e));
      }
    },
    flush(cb: TransformCallback) {
      try {
        z.push(new Uint8Array(0), true);
        cb();
      } catch (e) {
        cb(asError(e));
      }
    },
  });
  return out;
}

function decompressor(c: StreamCompression): Transform {
  return c === 'gzip' ? createGunzip({ chunkSize: 64 * 1024 }) : createZstdDecompress();
}

/** A gzip'd or zstd'd tar: every pass decompresses from the start (see the top of this file). */
class StreamedArchive implements Archive {
  private constructor(
    readonly compression: StreamCompression,
    readonly path: string,
    private readonly fh: FileHandle,
    readonly fileSize: number,
    readonly index: ArchiveIndex,
    private readonly small: Map<number, Buffer>,
  ) {}

  /** Streams the decompressed tar of the file through tar-stream, calling `onEntry` for every entry. */
  private static stream(
    compression: StreamCompression,
    fh: FileHandle,
    fileSize: number,
    onEntry: (h: TarStreamEntry, body: NodeJS.ReadableStream & AsyncIterable<Buffer>, ordinal: number) => Promise<'continue' | 'stop'>,
    signal?: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const rs = Readable.from(readRange(fh, 0, fileSize, undefined, () => importError('CHANGED', 'the file shrank while being read')), { objectMode: false, highWaterMark: READ_CHUNK });
      const decompress = decompressor(compression);
      const extract = tar.extract({ allowUnknownFormat: true } as Parameters<typeof tar.extract>[0]);
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
        void (async () => {
          const what = await onEntry(header, body as never, n);
          if (what === 'stop') {
            stopped = true;
            rs.destroy();
            finish();
            return;
          }
          for await (const _ of body as AsyncIterable<Buffer>) {
            /* skip the rest of this body */
          }
          next();
        })().catch((err: unknown) => {
          const e = asImportFailure(err);
          rs.destroy(e);
          finish(e);
        });
      });
      pipeline(rs, decompress, extract, (err) => {
        if (stopped) return finish();
        finish(err ? asImportFailure(err) : undefined);
      });
    });
  }

  static async open(compression: StreamCompression, path: string, fh: FileHandle, fileSize: number, signal?: AbortSignal): Promise<StreamedArchive> {
    const b = new IndexBuilder();
    const small = new Map<number, Buffer>();
    let kept = 0;
    try {
      await StreamedArchive.stream(
        compression,
        fh,
        fileSize,
        async (h, body) => {
          const type = typeOfTarStream(h.type);
          const size = type === 'file' ? h.size ?? 0 : 0;
          const e = b.add({ name: h.name, type, size, linkname: h.linkname ?? null }, h.byteOffset ?? -1);
          const why = type === 'file' ? isMetaCandidate(e.name, size) : false;
          if (why && size > 0) {
            // never leave a tar-stream entry early: destroying it destroys the whole extract
            const chunks: Buffer[] = [];
            let n = 0;
            let keep = true;
            for await (const c of body) {
              if (n === 0 && why === 'sniff' && c[0] !== 0x7b /* { */) keep = false;
              if (keep) chunks.push(c);
              n += c.length;
            }
            if (keep && n === size) {
              kept += n;
              if (kept > META_TOTAL_MAX) throw importError('TOO_LARGE', `more than ${META_TOTAL_MAX} bytes of metadata in a ${compression}-compressed archive`);
              small.set(e.ordinal, Buffer.concat(chunks, n));
            }
          }
          return 'continue';
        },
        signal,
      );
    } catch (e) {
      if (b.index.entries.length === 0 && isImportError(e, 'CORRUPT')) {
        throw importError('NOT_AN_ARCHIVE', `${compression} file does not hold a tar archive (${e.message})`);
      }
      throw e;
    }
    if (b.index.entries.length === 0) throw importError('NOT_AN_ARCHIVE', `${compression} file holds an empty tar`);
    return new StreamedArchive(compression, path, fh, fileSize, b.index, small);
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
    await StreamedArchive.stream(
      this.compression,
      this.fh,
      this.fileSize,
      async (_h, body, ordinal) => {
        const e = wanted.get(ordinal);
        if (!e) return 'continue';
        // a handler that does not read the body (blob already in the mirror) leaves it to be skipped
        await handler(e, body);
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

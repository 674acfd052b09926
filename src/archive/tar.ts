/**
 * Tar pass 1: the entry index (names, types, sizes, data offsets), built
 * without holding any file body in memory.
 *
 * For an uncompressed archive on disk, `indexPlainTar` reads only the 512-byte
 * headers (plus pax / GNU long-name records) with positioned reads and seeks
 * over every body: indexing a multi-GiB archive reads a few KiB. tar-stream
 * would give the same index (3.x exposes `header.byteOffset`) but only by
 * pushing every body byte through it; the gzip path (archive.ts) does use it,
 * since a compressed stream has to be read sequentially anyway. A test checks
 * that both produce the same index for the same archives.
 *
 * Safety: every entry name is checked as it is indexed. Absolute names, `..`
 * components and links whose target leaves the archive root are refused
 * (FERRY_ERR_IMPORT_UNSAFE_ENTRY) even though nothing is ever extracted to disk.
 */
import type { FileHandle } from 'node:fs/promises';
import { importError } from './errors.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'link' | 'other';

export interface TarEntry {
  /** Normalized path inside the archive (no leading `./`, no trailing `/`). */
  name: string;
  type: EntryType;
  size: number;
  /** Offset of the body in the (decompressed) tar stream. */
  offset: number;
  /** Position among all entries (0-based, meta headers not counted): the key pass 2 uses on a stream. */
  ordinal: number;
  /** Symlink / hardlink target, normalized relative to the archive root. */
  target?: string;
}

const BLOCK = 512;
/** Largest pax / GNU long-name record read into memory. */
const MAX_META = 1024 * 1024;

/** Normalized, safe entry name, or throws UNSAFE_ENTRY. */
export function safeEntryName(raw: string): string {
  if (raw.includes('\0')) throw unsafe(raw, 'NUL in name');
  if (raw.startsWith('/') || /^[A-Za-z]:[\\/]/.test(raw) || raw.startsWith('\\')) throw unsafe(raw, 'absolute path');
  const parts: string[] = [];
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' || seg.split('\\').includes('..')) throw unsafe(raw, '".." component');
    parts.push(seg);
  }
  return parts.join('/');
}

/** Resolves a link target against the directory of `from`; throws if it leaves the archive root. */
export function resolveLinkTarget(from: string, target: string, kind: 'symlink' | 'link'): string {
  if (target.startsWith('/')) throw unsafe(`${from} -> ${target}`, `${kind} to an absolute path`);
  // hard links name archive paths; symlinks are relative to the link's directory
  const base = kind === 'symlink' ? from.split('/').slice(0, -1) : [];
  const parts = [...base];
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) throw unsafe(`${from} -> ${target}`, `${kind} leaves the archive`);
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join('/');
}

function unsafe(name: string, why: string) {
  return importError('UNSAFE_ENTRY', `unsafe archive entry ${JSON.stringify(name.slice(0, 300))}: ${why}`, { details: { entry: name.slice(0, 300), reason: why } });
}

/** Entries of one archive, with name lookup (the last entry of a name wins, as when extracting). */
export class ArchiveIndex {
  readonly entries: TarEntry[] = [];
  private readonly byName = new Map<string, TarEntry>();

  add(e: Omit<TarEntry, 'ordinal'>): TarEntry {
    const entry: TarEntry = { ...e, ordinal: this.entries.length };
    this.entries.push(entry);
    if (entry.name !== '') this.byName.set(entry.name, entry);
    return entry;
  }

  get(name: string): TarEntry | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The regular file `name` refers to, following up to 16 links; throws MISSING_ENTRY. */
  resolve(name: string, what = 'entry'): TarEntry {
    let n = safeEntryName(name);
    for (let hops = 0; hops < 16; hops++) {
      const e = this.byName.get(n);
      if (!e) throw importError('MISSING_ENTRY', `archive has no ${what} ${JSON.stringify(n)}`, { details: { entry: n } });
      if (e.type === 'file') return e;
      if ((e.type === 'symlink' || e.type === 'link') && e.target !== undefined) {
        n = e.target;
        continue;
      }
      throw importError('MISSING_ENTRY', `archive ${what} ${JSON.stringify(n)} is a ${e.type}, not a file`, { details: { entry: n } });
    }
    throw importError('CORRUPT', `archive ${what} ${JSON.stringify(name)}: too many levels of links`);
  }
}

export interface RawHeader {
  name: string;
  typeflag: string;
  size: number;
  linkname: string;
}

function str(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end === -1 || end > start + len ? start + len : end);
}

function octal(buf: Buffer, start: number, len: number): number {
  // GNU base-256 for values that do not fit in octal (sizes >= 8 GiB)
  if ((buf[start]! & 0x80) !== 0) {
    let v = buf[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + buf[i]!;
    return v;
  }
  const s = str(buf, start, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return NaN;
  return parseInt(s, 8);
}

/** null for an all-zero block (end of archive); throws CORRUPT on a bad checksum. */
export function decodeHeader(buf: Buffer, at: number): RawHeader | null {
  let unsigned = 0;
  let signed = 0;
  let zero = true;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 32 : buf[i]!;
    if (buf[i] !== 0) zero = false;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (zero) return null;
  const sum = octal(buf, 148, 8);
  if (sum !== unsigned && sum !== signed) {
    throw importError('CORRUPT', `bad tar header checksum at offset ${at} (not a tar, or damaged)`, { details: { offset: at } });
  }
  let name = str(buf, 0, 100);
  const magic = buf.toString('latin1', 257, 263);
  if (magic === 'ustar\0' && buf[345] !== 0) name = `${str(buf, 345, 155)}/${name}`;
  const size = octal(buf, 124, 12);
  if (!Number.isSafeInteger(size) || size < 0) throw importError('CORRUPT', `bad tar entry size at offset ${at}`, { details: { offset: at } });
  const t = buf[156] === 0 ? '0' : String.fromCharCode(buf[156]!);
  return { name, typeflag: t === '0' && name.endsWith('/') ? '5' : t, size, linkname: str(buf, 157, 100) };
}

/** Parses a pax extended header body: `len key=value\n` records. */
export function decodePax(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < buf.length) {
    const sp = buf.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(buf.toString('latin1', i, sp));
    if (!Number.isInteger(len) || len <= 0 || i + len > buf.length) break;
    const rec = buf.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

function typeOf(flag: string): EntryType {
  switch (flag) {
    case '0':
    case '7':
      return 'file';
    case '1':
      return 'link';
    case '2':
      return 'symlink';
    case '5':
      return 'dir';
    default:
      return 'other';
  }
}

/**
 * Folds pax / GNU long-name records into the next real header and adds
 * entries to an index, checking names. Shared by the plain walker and (with
 * tar-stream's already-folded headers) the gzip path.
 */
export class IndexBuilder {
  readonly index = new ArchiveIndex();
  private pax: Record<string, string> | null = null;
  private paxGlobal: Record<string, string> = {};
  private longName: string | null = null;
  private longLink: string | null = null;

  /** Does this header carry metadata for the next one (its body must be given to `meta`)? */
  static isMeta(flag: string): boolean {
    return flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K';
  }

  meta(flag: string, body: Buffer): void {
    if (flag === 'x') this.pax = { ...this.paxGlobal, ...decodePax(body) };
    else if (flag === 'g') this.paxGlobal = { ...this.paxGlobal, ...decodePax(body) };
    else if (flag === 'L') this.longName = str(body, 0, body.length);
    else if (flag === 'K') this.longLink = str(body, 0, body.length);
  }

  /** Applies pending long names / pax to a raw header (returns the effective name, size, linkname). */
  fold(h: RawHeader): RawHeader {
    const pax = this.pax ?? (Object.keys(this.paxGlobal).length ? this.paxGlobal : null);
    const out = { ...h };
    if (this.longName !== null) out.name = this.longName;
    if (this.longLink !== null) out.linkname = this.longLink;
    if (pax?.path !== undefined) out.name = pax.path;
    if (pax?.linkpath !== undefined) out.linkname = pax.linkpath;
    if (pax?.size !== undefined && /^\d+$/.test(pax.size)) out.size = Number(pax.size);
    this.pax = null;
    this.longName = null;
    this.longLink = null;
    return out;
  }

  /** Adds a (folded) entry; throws UNSAFE_ENTRY for a bad name or an escaping link. */
  add(h: { name: string; type: EntryType; size: number; linkname?: string | null }, offset: number): TarEntry {
    const name = safeEntryName(h.name);
    let target: string | undefined;
    if (h.type === 'symlink' || h.type === 'link') {
      if (!h.linkname) throw importError('CORRUPT', `archive ${h.type} ${JSON.stringify(name)} has no target`);
      target = resolveLinkTarget(name, h.linkname, h.type);
    }
    return this.index.add({ name, type: h.type, size: h.type === 'file' ? h.size : 0, offset, ...(target !== undefined ? { target } : {}) });
  }
}

/**
 * Pass 1 over an uncompressed tar file: headers only. Throws TRUNCATED when an
 * entry runs past the end of the file or the end-of-archive marker is
 * missing, CORRUPT on a bad header, UNSAFE_ENTRY on a bad name.
 */
export async function indexPlainTar(fh: FileHandle, fileSize: number, signal?: AbortSignal): Promise<ArchiveIndex> {
  const b = new IndexBuilder();
  const header = Buffer.alloc(BLOCK);
  let pos = 0;
  for (;;) {
    signal?.throwIfAborted();
    const { bytesRead } = await fh.read(header, 0, BLOCK, pos);
    if (bytesRead === 0) {
      if (b.index.entries.length === 0) throw importError('NOT_AN_ARCHIVE', 'empty tar (no entries)');
      throw importError('TRUNCATED', `tar ends at ${pos} bytes without its end-of-archive marker`, { details: { offset: pos } });
    }
    if (bytesRead < BLOCK) throw importError('TRUNCATED', `tar ends inside a header at offset ${pos}`, { details: { offset: pos } });
    const raw = decodeHeader(header, pos);
    if (raw === null) break; // end of archive (one zero block is enough; a second is padding)
    const dataAt = pos + BLOCK;
    if (IndexBuilder.isMeta(raw.typeflag)) {
      if (raw.size > MAX_META) throw importError('TOO_LARGE', `tar ${raw.typeflag} record of ${raw.size} bytes at offset ${pos}`);
      checkFits(raw.name, dataAt, raw.size, fileSize);
      const body = Buffer.alloc(raw.size);
      await fh.read(body, 0, raw.size, dataAt);
      b.meta(raw.typeflag, body);
      pos = dataAt + Math.ceil(raw.size / BLOCK) * BLOCK;
      continue;
    }
    const h = b.fold(raw);
    // like Go's archive/tar: links, devices, dirs and fifos carry no body whatever their size field says
    const bodyLen = HEADER_ONLY.has(h.typeflag) ? 0 : h.size;
    checkFits(h.name, dataAt, bodyLen, fileSize);
    b.add({ name: h.name, type: typeOf(h.typeflag), size: bodyLen, linkname: h.linkname }, dataAt);
    pos = dataAt + Math.ceil(bodyLen / BLOCK) * BLOCK;
  }
  return b.index;
}

const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);

function checkFits(name: string, dataAt: number, size: number, fileSize: number): void {
  if (dataAt + size > fileSize) {
    throw importError('TRUNCATED', `tar entry ${JSON.stringify(name.slice(0, 300))} needs ${size} bytes at offset ${dataAt}, the file has ${fileSize}`, {
      details: { entry: name.slice(0, 300), offset: dataAt, size, fileSize },
    });
  }
}

/** tar-stream header type -> ours. */
export function typeOfTarStream(t: string | null | undefined): EntryType {
  switch (t) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'link':
      return 'link';
    case 'symlink':
      return 'symlink';
    case 'directory':
      return 'dir';
    default:
      return 'other';
  }
}

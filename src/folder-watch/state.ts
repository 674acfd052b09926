/**
 * What a folder watcher remembers per file, so a restart re-imports nothing
 * unchanged. A file is "the same" while its size, mtime and inode are; a
 * rename keeps all three.
 *
 * Where it is kept is a backend:
 * - `redisFileStates`: the Redis hash `<prefix>:import:files` (field =
 *   absolute path, value = JSON FileState), for `ferry import`, whose
 *   replicas share one mirror;
 * - `jsonFileStates`: one JSON file on the node, for `ferry agent`, whose
 *   imports land in that node's containerd only. Rewritten whole through a
 *   temp file + rename, so a crash leaves the old or the new file, never half.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Redis } from 'ioredis';

export type FileOutcome = 'imported' | 'error' | 'retry';

export interface Fingerprint {
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

export interface FileState extends Fingerprint {
  result: FileOutcome;
  /** Manifest digests imported (one per image name). */
  digests: string[];
  /** Names (ferry import: record refs) written. */
  refs: string[];
  /** `[code] message` of the last failure. */
  error?: string;
  /** ISO time of the last attempt. */
  at: string;
  /** For `retry`: when to try again (ms since epoch), and how many tries failed so far. */
  retryAt?: number;
  failures?: number;
}

export const FILES_KEY = (prefix: string) => `${prefix}:import:files`;

export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.dev === b.dev;
}

export function fingerprintOf(st: { size: number; mtimeMs: number; ino: number; dev: number }): Fingerprint {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
}

function decodeState(v: unknown): FileState | undefined {
  const s = v as FileState | null;
  if (!s || typeof s !== 'object') return undefined;
  return typeof s.size === 'number' && typeof s.mtimeMs === 'number' && typeof s.ino === 'number' ? { ...s, dev: s.dev ?? 0 } : undefined;
}

function decode(v: string): FileState | undefined {
  try {
    return decodeState(JSON.parse(v));
  } catch {
    return undefined;
  }
}

/** Where FileStates persist. `save` gets the whole map after the change, for backends that rewrite everything. */
export interface FileStateBackend {
  load(): Promise<Map<string, FileState>>;
  /** `state` undefined: `path` was forgotten. */
  save(path: string, state: FileState | undefined, all: ReadonlyMap<string, FileState>): Promise<void>;
}

/** `ferry import`'s backend: one Redis hash. */
export function redisFileStates(redis: Redis, prefix: string): FileStateBackend {
  const key = FILES_KEY(prefix);
  return {
    async load() {
      const out = new Map<string, FileState>();
      for (const [path, v] of Object.entries(await redis.hgetall(key))) {
        const s = decode(v);
        if (s) out.set(path, s);
      }
      return out;
    },
    async save(path, state) {
      if (state) await redis.hset(key, path, JSON.stringify(state));
      else await redis.hdel(key, path);
    },
  };
}

interface StateFileBody {
  version: 1;
  files: Record<string, unknown>;
}

/**
 * `ferry agent`'s backend: `file` holds `{version: 1, files: {path: FileState}}`.
 * A missing file is an empty state; an unreadable one too (`onUnreadable` is
 * told why): the worst case is one re-import of each file, which is harmless.
 * Writes are serialized: each one waits for the previous rename.
 */
export function jsonFileStates(file: string, onUnreadable: (why: string) => void = () => {}): FileStateBackend {
  let last: Promise<void> = Promise.resolve();
  const tmp = `${file}.${process.pid}.tmp`;
  return {
    async load() {
      const out = new Map<string, FileState>();
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOENT') onUnreadable(`cannot read ${file}: ${(e as Error).message}`);
        return out;
      }
      try {
        const body = JSON.parse(text) as StateFileBody;
        if (body?.version !== 1 || typeof body.files !== 'object' || !body.files) throw new Error('not a version 1 state file');
        for (const [path, v] of Object.entries(body.files)) {
          const s = decodeState(v);
          if (s) out.set(path, s);
        }
      } catch (e) {
        onUnreadable(`${file} is not a state file ferry wrote (${(e as Error).message}); starting with an empty state`);
      }
      return out;
    },
    save(_path, _state, all) {
      const body: StateFileBody = { version: 1, files: Object.fromEntries(all) };
      const text = JSON.stringify(body);
      const write = async () => {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(tmp, text);
        await rename(tmp, file);
      };
      const next = last.then(write, write);
      last = next.catch(() => {});
      return next;
    },
  };
}

/** In-memory map mirrored to a backend (writes go through; reads come from memory after `load`). */
export class FileStateStore {
  readonly map = new Map<string, FileState>();

  constructor(private readonly backend: FileStateBackend) {}

  async load(): Promise<void> {
    const loaded = await this.backend.load();
    this.map.clear();
    for (const [p, s] of loaded) this.map.set(p, s);
  }

  get(path: string): FileState | undefined {
    return this.map.get(path);
  }

  async set(path: string, s: FileState): Promise<void> {
    this.map.set(path, s);
    await this.backend.save(path, s, this.map);
  }

  async delete(path: string): Promise<void> {
    this.map.delete(path);
    await this.backend.save(path, undefined, this.map);
  }

  /** A remembered path holding the same file (same dev, inode, size and mtime), other than `except`. */
  findSame(fp: Fingerprint, except: string): [string, FileState] | undefined {
    for (const [p, s] of this.map) if (p !== except && sameFingerprint(s, fp)) return [p, s];
    return undefined;
  }
}

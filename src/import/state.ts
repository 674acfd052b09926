/**
 * What the watcher remembers per file, in the Redis hash
 * `<prefix>:import:files` (field = absolute path, value = JSON FileState), so
 * a restart re-imports nothing unchanged. A file is "the same" while its size,
 * mtime and inode are; a rename keeps all three.
 */
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
  /** Manifest digests pushed (one per image name). */
  digests: string[];
  /** Record refs written. */
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

function decode(v: string): FileState | undefined {
  try {
    const s = JSON.parse(v) as FileState;
    return typeof s.size === 'number' && typeof s.mtimeMs === 'number' && typeof s.ino === 'number' ? { ...s, dev: s.dev ?? 0 } : undefined;
  } catch {
    return undefined;
  }
}

/** In-memory map mirrored to Redis (writes go through; reads come from memory after `load`). */
export class FileStateStore {
  readonly map = new Map<string, FileState>();
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = FILES_KEY(prefix);
  }

  async load(): Promise<void> {
    const h = await this.redis.hgetall(this.key);
    this.map.clear();
    for (const [path, v] of Object.entries(h)) {
      const s = decode(v);
      if (s) this.map.set(path, s);
    }
  }

  get(path: string): FileState | undefined {
    return this.map.get(path);
  }

  async set(path: string, s: FileState): Promise<void> {
    this.map.set(path, s);
    await this.redis.hset(this.key, path, JSON.stringify(s));
  }

  async delete(path: string): Promise<void> {
    this.map.delete(path);
    await this.redis.hdel(this.key, path);
  }

  /** A remembered path holding the same file (same dev, inode, size and mtime), other than `except`. */
  findSame(fp: Fingerprint, except: string): [string, FileState] | undefined {
    for (const [p, s] of this.map) if (p !== except && sameFingerprint(s, fp)) return [p, s];
    return undefined;
  }
}

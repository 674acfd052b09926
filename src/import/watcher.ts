/**
 * The folder watcher: every archive that appears in `import.dir` is imported
 * once its writes are done, again when it changes, never twice for a rename.
 *
 * - Events: `fs.watch` on the directory (not recursive) plus a full rescan
 *   every `rescanMs` (fs.watch can miss events, and it says nothing about
 *   files that changed while ferry was down).
 * - Stable: a file is imported once its size, mtime and inode stayed the same
 *   for `import.stableMs`, or its mtime is already `stableMs` old (a file
 *   renamed into place, or present at start). Dotfiles and `*.tmp`, `*.part`,
 *   `*.partial`, `*.crdownload`, `*.download`, `*.swp` are ignored, so a writer can write under such a
 *   name and rename when done.
 * - Changed: a remembered path whose size, mtime or inode differ is imported
 *   again (after the stable wait).
 * - Renamed: a new path whose (dev, inode, size, mtime) equal a remembered
 *   file (still listed, or removed within `renameGraceMs`) takes over that
 *   file's state; nothing is read or pushed.
 * - Removed: forgotten (state dropped, its `import/<file>` error record too);
 *   images already in the mirror stay.
 * - Directories, symlinks to non-files, sockets... are ignored with one log line.
 * - Imports run one at a time; a permanent failure (bad archive) is retried
 *   only when the file changes; a transient one (mirror down) with backoff
 *   (5 s doubling, at most 5 min).
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { backoffDelay } from '../async/index.js';
import type { FerryConfig } from '../config/types.js';
import { describeError } from '../errors.js';
import { importFile, importSummary, type ImportDeps, type ImportOptions, type ImportResult } from './importer.js';
import { importFiles, importPending, importTracked } from './metrics.js';
import { fileRecordRef } from './naming.js';
import type { BlobEvent, MirrorClient } from './push.js';
import { ImportRecords } from './records.js';
import { FileStateStore, fingerprintOf, sameFingerprint, type FileState, type Fingerprint } from './state.js';

export interface ImportWatcherOptions extends Omit<ImportOptions, 'signal' | 'onBlob' | 'retryAt' | 'mirror'> {
  mirror: MirrorClient;
  /** Full rescan period. @defaultValue 5000 */
  rescanMs?: number;
  /** How long a removed file's identity is kept to recognise a rename. @defaultValue 600000 */
  renameGraceMs?: number;
  /** First retry delay after a transient failure (doubling, capped at 5 min). @defaultValue 5000 */
  retryBaseMs?: number;
}

export interface ImportWatcherEvents {
  pending: [{ file: string; size: number }];
  start: [{ file: string }];
  blob: [BlobEvent & { file: string }];
  imported: [ImportResult];
  failed: [ImportResult];
  renamed: [{ from: string; to: string; alias: boolean }];
  unchanged: [{ file: string }];
  forgotten: [{ file: string }];
  ignored: [{ file: string; reason: string }];
  scan: [{ dir: string; files: number }];
}

const IGNORED_NAME = /^\.|\.(tmp|part|partial|crdownload|download|swp)$/i;
const RETRY_MAX_MS = 5 * 60_000;

function isEnoent(e: unknown): boolean {
  const c = (e as { code?: string })?.code;
  return c === 'ENOENT' || c === 'ENOTDIR';
}

export class ImportWatcher extends EventEmitter<ImportWatcherEvents> {
  private dir: string;
  private readonly state: FileStateStore;
  private readonly records: ImportRecords;
  private fsw: FSWatcher | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private readonly pending = new Map<string, { fp: Fingerprint; since: number; timer: NodeJS.Timeout }>();
  private readonly queue = new Map<string, Fingerprint>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly tombstones = new Map<string, { path: string; state: FileState; expires: number }>();
  private readonly observing = new Map<string, { dirty: boolean; done: Promise<void> }>();
  private readonly reported = new Map<string, string>();
  private running: Promise<void> | undefined;
  private current: { path: string; abort: AbortController } | undefined;
  private closed = false;
  private started = false;
  private dirError: string | undefined;
  private readonly now: () => number;

  constructor(
    private readonly deps: ImportDeps,
    private readonly opts: ImportWatcherOptions,
  ) {
    super();
    this.now = opts.now ?? Date.now;
    this.dir = resolve(deps.config().import.dir);
    this.state = new FileStateStore(deps.connection, deps.config().queue.prefix);
    this.records = new ImportRecords(deps.store, () => deps.config().queue.maxAttempts, this.now);
  }

  get directory(): string {
    return this.dir;
  }

  /** The remembered state of a path (tests, status pages). */
  fileState(path: string): FileState | undefined {
    return this.state.get(resolve(path));
  }

  trackedFiles(): string[] {
    return [...this.state.map.keys()];
  }

  async start(): Promise<void> {
    await this.state.load();
    importTracked.set(this.state.map.size);
    this.started = true;
    await this.openDir();
    this.rescanTimer = setInterval(() => void this.scan(), this.opts.rescanMs ?? 5000);
    this.rescanTimer.unref?.();
    await this.scan();
  }

  async readiness(): Promise<{ ok: boolean; detail?: string }> {
    if (!this.started) return { ok: false, detail: 'starting' };
    if (this.dirError) return { ok: false, detail: this.dirError };
    return { ok: true, detail: `${this.dir}: ${this.state.map.size} files, ${this.pending.size + this.queue.size} pending` };
  }

  /** Hot reload: a new import.dir is watched from now on. */
  configChanged(next: FerryConfig, prev: FerryConfig): void {
    if (resolve(next.import.dir) === resolve(prev.import.dir)) return;
    this.deps.logger.info({ from: this.dir, to: resolve(next.import.dir) }, 'import.dir changed');
    this.fsw?.close();
    this.fsw = undefined;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.queue.clear();
    this.dir = resolve(next.import.dir);
    void this.openDir().then(() => this.scan());
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.rescanTimer);
    this.fsw?.close();
    this.fsw = undefined;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.pending.clear();
    this.queue.clear();
    this.current?.abort.abort();
    await this.running;
    await Promise.all([...this.observing.values()].map((o) => o.done));
  }

  // ---------------------------------------------------------------- discovery

  private async openDir(): Promise<void> {
    if (this.closed || this.fsw) return;
    try {
      await mkdir(this.dir, { recursive: true });
      const w = watch(this.dir, { persistent: false }, (_event, filename) => {
        if (filename) this.touch(join(this.dir, filename.toString()));
        else void this.scan();
      });
      w.on('error', (e) => {
        this.deps.logger.warn({ dir: this.dir, err: e.message }, 'import: watching the directory failed; relying on rescans until it works again');
        w.close();
        if (this.fsw === w) this.fsw = undefined;
      });
      this.fsw = w;
      if (this.dirError) this.deps.logger.info({ dir: this.dir }, 'import: watching the directory again');
      this.dirError = undefined;
    } catch (e) {
      const msg = `cannot watch import.dir ${this.dir}: ${describeError(e)}`;
      if (this.dirError !== msg) this.deps.logger.error({ dir: this.dir }, msg);
      this.dirError = msg;
    }
  }

  /** Lists the directory and observes every entry and every remembered path. */
  async scan(): Promise<void> {
    if (this.closed) return;
    if (!this.fsw) await this.openDir();
    let names: string[] = [];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if (!isEnoent(e)) {
        this.deps.logger.warn({ dir: this.dir, err: describeError(e) }, 'import: cannot list import.dir');
        return;
      }
    }
    const paths = new Set(names.map((n) => join(this.dir, n)));
    for (const p of [...this.state.map.keys(), ...this.pending.keys(), ...this.queue.keys()]) paths.add(p);
    await Promise.all([...paths].map((p) => this.touch(p)));
    this.pruneTombstones();
    if (!this.closed) this.emit('scan', { dir: this.dir, files: names.length });
  }

  /** Observes `path`, one observation per path at a time (a burst of events becomes at most two stats). */
  touch(path: string): Promise<void> {
    const o = this.observing.get(path);
    if (o) {
      o.dirty = true;
      return o.done;
    }
    const entry = { dirty: false, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        do {
          entry.dirty = false;
          await this.observe(path);
        } while (entry.dirty && !this.closed);
      } catch (e) {
        this.deps.logger.error({ file: path, err: describeError(e) }, 'import: observing a file failed');
      } finally {
        this.observing.delete(path);
      }
    })();
    this.observing.set(path, entry);
    return entry.done;
  }

  private reportOnce(path: string, reason: string): void {
    if (this.reported.get(path) === reason) return;
    this.reported.set(path, reason);
    this.deps.logger.info({ file: path, reason }, 'import: ignored');
    this.emit('ignored', { file: path, reason });
  }

  private async observe(path: string): Promise<void> {
    if (this.closed) return;
    const name = basename(path);
    const inDir = dirname(path) === this.dir;
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      if (!inDir) throw Object.assign(new Error('outside import.dir'), { code: 'ENOENT' });
      st = await stat(path);
    } catch (e) {
      if (!isEnoent(e)) throw e;
      this.reported.delete(path);
      return this.gone(path);
    }
    if (IGNORED_NAME.test(name)) {
      this.deps.logger.debug({ file: path }, 'import: temporary or hidden file ignored');
      return;
    }
    if (st.isDirectory()) return this.reportOnce(path, 'directory (only files directly in import.dir are imported)');
    if (!st.isFile()) return this.reportOnce(path, 'not a regular file');
    this.reported.delete(path);
    const fp = fingerprintOf(st);
    const known = this.state.get(path);
    if (known && sameFingerprint(known, fp)) {
      if (known.result === 'retry' && (known.retryAt ?? 0) <= this.now()) this.enqueue(path, fp);
      else if (!this.queue.has(path) && this.current?.path !== path) this.emit('unchanged', { file: path });
      return;
    }
    if (this.current?.path === path || (this.queue.has(path) && sameFingerprint(this.queue.get(path)!, fp))) return;
    const p = this.pending.get(path);
    if (p && sameFingerprint(p.fp, fp)) return;
    if (p) clearTimeout(p.timer);
    else this.emit('pending', { file: path, size: fp.size });
    this.schedule(path, fp, this.now());
  }

  /** Waits until `fp` has been seen for stableMs, or the mtime is stableMs old. */
  private schedule(path: string, fp: Fingerprint, since: number): void {
    const stableMs = this.deps.config().import.stableMs;
    const now = this.now();
    const wait = Math.max(0, Math.min(since + stableMs - now, fp.mtimeMs + stableMs - now));
    const timer = setTimeout(() => void this.checkStable(path), wait);
    this.pending.set(path, { fp, since, timer });
    importPending.set(this.pending.size + this.queue.size);
  }

  private async checkStable(path: string): Promise<void> {
    const p = this.pending.get(path);
    if (!p || this.closed) return;
    let fp: Fingerprint;
    try {
      fp = fingerprintOf(await stat(path));
    } catch (e) {
      if (!isEnoent(e)) throw e;
      this.pending.delete(path);
      return this.gone(path);
    }
    if (this.pending.get(path) !== p) return; // re-observed meanwhile
    if (!sameFingerprint(fp, p.fp)) return this.schedule(path, fp, this.now());
    const stableMs = this.deps.config().import.stableMs;
    const now = this.now();
    if (now - p.since < stableMs && now - fp.mtimeMs < stableMs) return this.schedule(path, fp, p.since);
    this.pending.delete(path);
    this.enqueue(path, fp);
  }

  private async gone(path: string): Promise<void> {
    const p = this.pending.get(path);
    if (p) clearTimeout(p.timer);
    this.pending.delete(path);
    this.queue.delete(path);
    clearTimeout(this.retryTimers.get(path));
    this.retryTimers.delete(path);
    importPending.set(this.pending.size + this.queue.size);
    const s = this.state.get(path);
    if (!s) return;
    this.tombstones.set(`${s.dev}:${s.ino}`, { path, state: s, expires: this.now() + (this.opts.renameGraceMs ?? 600_000) });
    await this.state.delete(path);
    importTracked.set(this.state.map.size);
    await this.records.clearFileRecord(fileRecordRef(path), path).catch(() => {});
    this.deps.logger.info({ file: path }, 'import: file removed; forgotten');
    this.emit('forgotten', { file: path });
  }

  private pruneTombstones(): void {
    const now = this.now();
    for (const [k, t] of this.tombstones) if (t.expires < now) this.tombstones.delete(k);
  }

  // ------------------------------------------------------------------ imports

  private enqueue(path: string, fp: Fingerprint): void {
    if (this.closed) return;
    this.queue.set(path, fp);
    importPending.set(this.pending.size + this.queue.size);
    this.pump();
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const next = this.queue.entries().next();
    if (next.done) return;
    const [path, fp] = next.value;
    this.queue.delete(path);
    importPending.set(this.pending.size + this.queue.size);
    this.running = this.process(path, fp)
      .catch((e) => this.deps.logger.error({ file: path, err: describeError(e) }, 'import: unexpected failure'))
      .finally(() => {
        this.running = undefined;
        this.current = undefined;
        if (!this.closed) {
          void this.touch(path); // it may have changed during the import
          this.pump();
        }
      });
  }

  /** Same file under another name? Then take its state over instead of importing. */
  private async adoptRename(path: string, fp: Fingerprint): Promise<boolean> {
    let from: string | undefined;
    let prev: FileState | undefined;
    let alias = false;
    const same = this.state.findSame(fp, path);
    if (same) {
      [from, prev] = same;
      try {
        alias = sameFingerprint(fingerprintOf(await stat(from)), fp); // hard link, or a copy that kept the inode
      } catch (e) {
        if (!isEnoent(e)) throw e;
      }
    } else {
      const t = this.tombstones.get(`${fp.dev}:${fp.ino}`);
      if (t && sameFingerprint(t.state, fp)) [from, prev] = [t.path, t.state];
    }
    if (!from || !prev) return false;
    this.tombstones.delete(`${fp.dev}:${fp.ino}`);
    await this.state.set(path, { ...prev, ...fp });
    if (!alias && this.state.get(from)) await this.state.delete(from);
    importTracked.set(this.state.map.size);
    importFiles.inc({ result: 'renamed' });
    this.deps.logger.info({ from, to: path, result: prev.result }, alias ? 'import: same file under a second name; not imported again' : 'import: file renamed; not imported again');
    this.emit('renamed', { from, to: path, alias });
    return true;
  }

  private retryDelay(failures: number): number {
    return backoffDelay(failures, { initialMs: this.opts.retryBaseMs ?? 5000, maxMs: RETRY_MAX_MS });
  }

  private async process(path: string, fp: Fingerprint): Promise<void> {
    let now: Fingerprint;
    try {
      now = fingerprintOf(await stat(path));
    } catch (e) {
      if (isEnoent(e)) return this.gone(path);
      throw e;
    }
    if (!sameFingerprint(now, fp)) return void this.touch(path);
    if (await this.adoptRename(path, fp)) return;

    const abort = new AbortController();
    this.current = { path, abort };
    const prev = this.state.get(path);
    const failures = (prev && sameFingerprint(prev, fp) && prev.result === 'retry' ? prev.failures ?? 0 : 0) + 1;
    const retryAt = this.now() + this.retryDelay(failures);
    this.deps.logger.info({ file: path, size: fp.size }, 'import: importing');
    this.emit('start', { file: path });
    const { mirror, rescanMs: _r, renameGraceMs: _g, retryBaseMs: _b, ...importOpts } = this.opts;
    const result = await importFile(path, this.deps, {
      ...importOpts,
      mirror,
      signal: abort.signal,
      onBlob: (e) => this.emit('blob', { ...e, file: path }),
      retryAt: () => retryAt,
    });
    if (this.closed && abort.signal.aborted) return; // shutdown: nothing recorded, re-imported at the next start
    const err = result.error;
    const outcome = result.ok ? 'imported' : err?.transient ? 'retry' : 'error';
    const s: FileState = {
      ...fp,
      result: outcome,
      digests: result.images.map((i) => i.digest),
      refs: result.refs,
      at: new Date(this.now()).toISOString(),
      ...(err ? { error: `[${err.code}] ${err.message}` } : {}),
      ...(outcome === 'retry' ? { retryAt, failures } : {}),
    };
    await this.state.set(path, s);
    importTracked.set(this.state.map.size);
    importFiles.inc({ result: outcome });
    if (result.ok) {
      this.deps.logger.info(importSummary(result), result.blocked.length ? 'import: imported, except what block rules refuse' : 'import: imported');
      this.emit('imported', result);
    } else {
      this.deps.logger[outcome === 'retry' ? 'warn' : 'error'](
        { file: path, code: err?.code, err: err?.message, hint: err?.hint, refs: result.refs, ...(outcome === 'retry' ? { retryAt: new Date(retryAt).toISOString() } : {}) },
        outcome === 'retry' ? 'import: failed; will retry' : 'import: failed; the file is retried once it changes',
      );
      if (outcome === 'retry') {
        clearTimeout(this.retryTimers.get(path));
        const t = setTimeout(() => {
          this.retryTimers.delete(path);
          void this.touch(path);
        }, Math.max(0, retryAt - this.now()));
        t.unref?.();
        this.retryTimers.set(path, t);
      }
      this.emit('failed', result);
    }
  }
}

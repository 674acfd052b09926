/**
 * The folder watcher: every archive that appears in a folder is imported
 * once its writes are done, again when it changes, never twice for a rename
 * (the k3s image-folder semantics). Generic over what "import" means and
 * where the per-file state lives: `ferry import` pushes to the mirror and
 * keeps its state in Redis (ImportWatcher, src/import/import-watcher.ts); `ferry agent` imports into
 * the node's containerd and keeps its state in a JSON file (src/agent).
 *
 * - Events: `fs.watch` on the directory (not recursive) plus a full rescan
 *   every `rescanMs` (fs.watch can miss events, and it says nothing about
 *   files that changed while ferry was down).
 * - Stable: a file is imported once its size, mtime and inode stayed the same
 *   for `stableMs`, or its mtime is already `stableMs` old (a file renamed
 *   into place, or present at start). Dotfiles and `*.tmp`, `*.part`,
 *   `*.partial`, `*.crdownload`, `*.download`, `*.swp` are ignored, so a writer can write under such a
 *   name and rename when done.
 * - Changed: a remembered path whose size, mtime or inode differ is imported
 *   again (after the stable wait).
 * - Renamed: a new path whose (dev, inode, size, mtime) equal a remembered
 *   file (still listed, or removed within `renameGraceMs`) takes over that
 *   file's state; nothing is read or imported.
 * - Removed: forgotten (state dropped, `onForgotten` told); what was imported stays.
 * - Directories, symlinks to non-files, sockets... are ignored with one log line.
 * - Imports run one at a time; a permanent failure (bad archive) is retried
 *   only when the file changes; a transient one (mirror or runtime down) with
 *   doubling backoff (`retry`).
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { backoffDelay, type Backoff } from '../async/index.js';
import { describeError } from '../errors.js';
import { FileStateStore, fingerprintOf, sameFingerprint, type FileState, type FileStateBackend, type Fingerprint } from './state.js';

/** What happened to one file, for a `metrics.file` counter. */
export type FileResult = 'imported' | 'unchanged' | 'renamed' | 'error' | 'retry' | 'ignored';

/** What the watcher needs to know about one import's result. */
export interface FolderImportOutcome {
  ok: boolean;
  /** One per image name. */
  digests: string[];
  refs: string[];
  error?: { code: string; message: string; hint?: string; transient: boolean };
}

export interface FolderWatcherOptions<R> {
  /** Log prefix (`import` -> `import: importing`). */
  name: string;
  logger: Logger;
  /** The folder and the stable wait in force now (read at each use: hot reload). */
  settings(): { dir: string; stableMs: number };
  state: FileStateBackend;
  /** Imports one stable file; never throws for a bad file (the outcome says so). */
  importFile(path: string, run: { signal: AbortSignal; retryAt: number }): Promise<R>;
  outcomeOf(result: R): FolderImportOutcome;
  /** Log line of a success. @defaultValue file, refs, digests; `<name>: imported` */
  summaryOf?(result: R): { fields: Record<string, unknown>; msg?: string };
  /** A removed file was forgotten (drop what was recorded about it elsewhere). */
  onForgotten?(path: string): Promise<void>;
  /** Gauges and counters of the caller (ferry import's ferry_import_* metrics). */
  metrics?: { tracked(n: number): void; pending(n: number): void; file(result: FileResult): void };
  /** Full rescan period. @defaultValue 5000 */
  rescanMs?: number;
  /** How long a removed file's identity is kept to recognise a rename. @defaultValue 600000 */
  renameGraceMs?: number;
  /** Retry delays after a transient failure (doubling; read at each failure). @defaultValue 5 s .. 5 min */
  retry?(): Backoff;
  now?: () => number;
}

export interface FolderWatcherEvents<R> {
  pending: [{ file: string; size: number }];
  start: [{ file: string }];
  imported: [R];
  failed: [R];
  renamed: [{ from: string; to: string; alias: boolean }];
  unchanged: [{ file: string }];
  forgotten: [{ file: string }];
  ignored: [{ file: string; reason: string }];
  scan: [{ dir: string; files: number }];
}

const IGNORED_NAME = /^\.|\.(tmp|part|partial|crdownload|download|swp)$/i;
export const DEFAULT_RETRY: Backoff = { initialMs: 5000, maxMs: 5 * 60_000 };
const NO_METRICS = { tracked() {}, pending() {}, file() {} };

function isEnoent(e: unknown): boolean {
  const c = (e as { code?: string })?.code;
  return c === 'ENOENT' || c === 'ENOTDIR';
}

export class FolderWatcher<R, Extra extends Record<keyof Extra, unknown[]> = {}> extends EventEmitter<FolderWatcherEvents<R> & Extra> {
  private dir: string;
  private readonly state: FileStateStore;
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
  private readonly log: Logger;
  private readonly metrics: NonNullable<FolderWatcherOptions<R>['metrics']>;
  private readonly p: string;

  constructor(private readonly fo: FolderWatcherOptions<R>) {
    super();
    this.now = fo.now ?? Date.now;
    this.log = fo.logger;
    this.p = fo.name;
    this.metrics = fo.metrics ?? NO_METRICS;
    this.dir = resolve(fo.settings().dir);
    this.state = new FileStateStore(fo.state);
  }

  /** Emits one of the folder events (typed against the base map, whatever `Extra` adds). */
  private fire<K extends keyof FolderWatcherEvents<R>>(event: K, ...args: FolderWatcherEvents<R>[K]): void {
    (this.emit as (e: string, ...a: unknown[]) => boolean)(event as string, ...args);
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
    this.metrics.tracked(this.state.map.size);
    this.started = true;
    await this.openDir();
    this.rescanTimer = setInterval(() => void this.scan(), this.fo.rescanMs ?? 5000);
    this.rescanTimer.unref?.();
    await this.scan();
  }

  async readiness(): Promise<{ ok: boolean; detail?: string }> {
    if (!this.started) return { ok: false, detail: 'starting' };
    if (this.dirError) return { ok: false, detail: this.dirError };
    return { ok: true, detail: `${this.dir}: ${this.state.map.size} files, ${this.pending.size + this.queue.size} pending` };
  }

  /** Hot reload: a new folder (settings().dir) is watched from now on. */
  settingsChanged(): void {
    const next = resolve(this.fo.settings().dir);
    if (next === this.dir) return;
    this.log.info({ from: this.dir, to: next }, `${this.p}: folder changed`);
    this.fsw?.close();
    this.fsw = undefined;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.queue.clear();
    this.dir = next;
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
        this.log.warn({ dir: this.dir, err: e.message }, `${this.p}: watching the directory failed; relying on rescans until it works again`);
        w.close();
        if (this.fsw === w) this.fsw = undefined;
      });
      this.fsw = w;
      if (this.dirError) this.log.info({ dir: this.dir }, `${this.p}: watching the directory again`);
      this.dirError = undefined;
    } catch (e) {
      const msg = `cannot watch ${this.dir}: ${describeError(e)}`;
      if (this.dirError !== msg) this.log.error({ dir: this.dir }, msg);
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
        this.log.warn({ dir: this.dir, err: describeError(e) }, `${this.p}: cannot list the folder`);
        return;
      }
    }
    const paths = new Set(names.map((n) => join(this.dir, n)));
    for (const p of [...this.state.map.keys(), ...this.pending.keys(), ...this.queue.keys()]) paths.add(p);
    await Promise.all([...paths].map((p) => this.touch(p)));
    this.pruneTombstones();
    if (!this.closed) this.fire('scan', { dir: this.dir, files: names.length });
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
        this.log.error({ file: path, err: describeError(e) }, `${this.p}: observing a file failed`);
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
    this.log.info({ file: path, reason }, `${this.p}: ignored`);
    this.fire('ignored', { file: path, reason });
  }

  private async observe(path: string): Promise<void> {
    if (this.closed) return;
    const name = basename(path);
    const inDir = dirname(path) === this.dir;
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      if (!inDir) throw Object.assign(new Error('outside the folder'), { code: 'ENOENT' });
      st = await stat(path);
    } catch (e) {
      if (!isEnoent(e)) throw e;
      this.reported.delete(path);
      return this.gone(path);
    }
    if (IGNORED_NAME.test(name)) {
      this.log.debug({ file: path }, `${this.p}: temporary or hidden file ignored`);
      return;
    }
    if (st.isDirectory()) return this.reportOnce(path, 'directory (only files directly in the folder are imported)');
    if (!st.isFile()) return this.reportOnce(path, 'not a regular file');
    this.reported.delete(path);
    const fp = fingerprintOf(st);
    const known = this.state.get(path);
    if (known && sameFingerprint(known, fp)) {
      if (known.result === 'retry' && (known.retryAt ?? 0) <= this.now()) this.enqueue(path, fp);
      else if (!this.queue.has(path) && this.current?.path !== path) this.fire('unchanged', { file: path });
      return;
    }
    if (this.current?.path === path || (this.queue.has(path) && sameFingerprint(this.queue.get(path)!, fp))) return;
    const p = this.pending.get(path);
    if (p && sameFingerprint(p.fp, fp)) return;
    if (p) clearTimeout(p.timer);
    else this.fire('pending', { file: path, size: fp.size });
    this.schedule(path, fp, this.now());
  }

  private countPending(): void {
    this.metrics.pending(this.pending.size + this.queue.size);
  }

  /** Waits until `fp` has been seen for stableMs, or the mtime is stableMs old. */
  private schedule(path: string, fp: Fingerprint, since: number): void {
    const stableMs = this.fo.settings().stableMs;
    const now = this.now();
    const wait = Math.max(0, Math.min(since + stableMs - now, fp.mtimeMs + stableMs - now));
    const timer = setTimeout(() => void this.checkStable(path), wait);
    this.pending.set(path, { fp, since, timer });
    this.countPending();
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
    const stableMs = this.fo.settings().stableMs;
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
    this.countPending();
    const s = this.state.get(path);
    if (!s) return;
    this.tombstones.set(`${s.dev}:${s.ino}`, { path, state: s, expires: this.now() + (this.fo.renameGraceMs ?? 600_000) });
    await this.state.delete(path);
    this.metrics.tracked(this.state.map.size);
    await this.fo.onForgotten?.(path).catch(() => {});
    this.log.info({ file: path }, `${this.p}: file removed; forgotten`);
    this.fire('forgotten', { file: path });
  }

  private pruneTombstones(): void {
    const now = this.now();
    for (const [k, t] of this.tombstones) if (t.expires < now) this.tombstones.delete(k);
  }

  // ------------------------------------------------------------------ imports

  private enqueue(path: string, fp: Fingerprint): void {
    if (this.closed) return;
    this.queue.set(path, fp);
    this.countPending();
    this.pump();
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const next = this.queue.entries().next();
    if (next.done) return;
    const [path, fp] = next.value;
    this.queue.delete(path);
    this.countPending();
    this.running = this.process(path, fp)
      .catch((e) => this.log.error({ file: path, err: describeError(e) }, `${this.p}: unexpected failure`))
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
    this.metrics.tracked(this.state.map.size);
    this.metrics.file('renamed');
    this.log.info({ from, to: path, result: prev.result }, alias ? `${this.p}: same file under a second name; not imported again` : `${this.p}: file renamed; not imported again`);
    this.fire('renamed', { from, to: path, alias });
    return true;
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
    const retryAt = this.now() + backoffDelay(failures, this.fo.retry?.() ?? DEFAULT_RETRY);
    this.log.info({ file: path, size: fp.size }, `${this.p}: importing`);
    this.fire('start', { file: path });
    const result = await this.fo.importFile(path, { signal: abort.signal, retryAt });
    if (this.closed && abort.signal.aborted) return; // shutdown: nothing recorded, re-imported at the next start
    const o = this.fo.outcomeOf(result);
    const err = o.error;
    const outcome = o.ok ? 'imported' : err?.transient ? 'retry' : 'error';
    const s: FileState = {
      ...fp,
      result: outcome,
      digests: o.digests,
      refs: o.refs,
      at: new Date(this.now()).toISOString(),
      ...(err ? { error: `[${err.code}] ${err.message}` } : {}),
      ...(outcome === 'retry' ? { retryAt, failures } : {}),
    };
    await this.state.set(path, s);
    this.metrics.tracked(this.state.map.size);
    this.metrics.file(outcome);
    if (o.ok) {
      const line = this.fo.summaryOf?.(result);
      this.log.info(line?.fields ?? { file: path, refs: o.refs, digests: o.digests }, line?.msg ?? `${this.p}: imported`);
      this.fire('imported', result);
      return;
    }
    this.log[outcome === 'retry' ? 'warn' : 'error'](
      { file: path, code: err?.code, err: err?.message, hint: err?.hint, refs: o.refs, ...(outcome === 'retry' ? { retryAt: new Date(retryAt).toISOString() } : {}) },
      outcome === 'retry' ? `${this.p}: failed; will retry` : `${this.p}: failed; the file is retried once it changes`,
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
    this.fire('failed', result);
  }
}

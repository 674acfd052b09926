/**
 * `ferry import`'s folder watcher: FolderWatcher (watcher.ts) with import.dir
 * -> the mirror, its file state in Redis and an error record per failed file.
 */
import type { FerryConfig } from '../config/types.js';
import { importFile, importSummary, type ImportDeps, type ImportOptions, type ImportResult } from './importer.js';
import { importFiles, importPending, importTracked } from './metrics.js';
import { fileRecordRef } from '../archive/index.js';
import type { BlobEvent, MirrorClient } from './push.js';
import { ImportRecords } from './records.js';
import { DEFAULT_RETRY, FolderWatcher, redisFileStates, type FolderWatcherEvents } from '../folder-watch/index.js';

export interface ImportWatcherOptions extends Omit<ImportOptions, 'signal' | 'onBlob' | 'retryAt' | 'mirror'> {
  mirror: MirrorClient;
  /** Full rescan period. @defaultValue 5000 */
  rescanMs?: number;
  /** How long a removed file's identity is kept to recognise a rename. @defaultValue 600000 */
  renameGraceMs?: number;
  /** First retry delay after a transient failure (doubling, capped at 5 min). @defaultValue 5000 */
  retryBaseMs?: number;
}

export interface ImportWatcherEvents extends FolderWatcherEvents<ImportResult> {
  blob: [BlobEvent & { file: string }];
}

/** `ferry import`'s watcher: import.dir -> the mirror, file state in Redis, error records per file. */
export class ImportWatcher extends FolderWatcher<ImportResult, { blob: [BlobEvent & { file: string }] }> {
  constructor(deps: ImportDeps, opts: ImportWatcherOptions) {
    const now = opts.now ?? Date.now;
    const records = new ImportRecords(deps.store, () => deps.config().queue.maxAttempts, now);
    const { mirror, rescanMs, renameGraceMs, retryBaseMs, ...importOpts } = opts;
    super({
      name: 'import',
      logger: deps.logger,
      settings: () => deps.config().import,
      state: redisFileStates(deps.connection, deps.config().queue.prefix),
      rescanMs,
      renameGraceMs,
      retry: () => ({ initialMs: retryBaseMs ?? DEFAULT_RETRY.initialMs, maxMs: DEFAULT_RETRY.maxMs }),
      now,
      metrics: { tracked: (n) => importTracked.set(n), pending: (n) => importPending.set(n), file: (result) => importFiles.inc({ result }) },
      importFile: (path, run) =>
        importFile(path, deps, {
          ...importOpts,
          mirror,
          signal: run.signal,
          onBlob: (e) => this.emit('blob', { ...e, file: path }),
          retryAt: () => run.retryAt,
        }),
      outcomeOf: (r) => ({ ok: r.ok, digests: r.images.map((i) => i.digest), refs: r.refs, ...(r.error ? { error: r.error } : {}) }),
      summaryOf: (r) => ({ fields: importSummary(r), ...(r.blocked.length ? { msg: 'import: imported, except what block rules refuse' } : {}) }),
      onForgotten: (path) => records.clearFileRecord(fileRecordRef(path), path),
    });
  }

  /** Hot reload: a new import.dir is watched from now on. */
  configChanged(_next: FerryConfig, _prev: FerryConfig): void {
    this.settingsChanged();
  }
}

/**
 * Image records written by the importer (through ImageStore, so the state
 * sets, index and events stay consistent). Besides the standard fields, import
 * records carry `importFile` (the archive) and, when the name was derived from
 * the file, `importNote` saying so.
 */
import { basename } from 'node:path';
import type { FerryError } from '../errors.js';
import type { ImageRecord, ImageState, ImageStore } from '../queue/index.js';

type ImportPatch = Partial<ImageRecord> & { importFile?: string; importNote?: string };

export interface RecordTarget {
  ref: string;
  mirrorRef: string;
  note?: string | undefined;
}

export class ImportRecords {
  private lastProgress = 0;

  constructor(
    private readonly store: ImageStore,
    private readonly maxAttempts: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  private async write(ref: string, patch: ImportPatch): Promise<void> {
    const existing = await this.store.get(ref);
    if (existing?.state === 'blocked') return;
    const full: ImportPatch = { ...patch, ...(existing ? {} : { createdAt: new Date(this.now()).toISOString() }) };
    await this.store.update(ref, full as Partial<ImageRecord>, { upsert: true });
  }

  /** Refs whose record is `blocked`, with the reason: the importer leaves those alone. */
  async blocked(refs: string[]): Promise<Map<string, string>> {
    const recs = await this.store.getMany(refs);
    const out = new Map<string, string>();
    refs.forEach((ref, i) => {
      if (recs[i]?.state === 'blocked') out.set(ref, recs[i]!.blockedReason ?? 'blocked by an operator');
    });
    return out;
  }

  async copying(file: string, targets: RecordTarget[], bytesTotal: number): Promise<void> {
    for (const t of targets) {
      await this.write(t.ref, {
        ref: t.ref,
        mirrorRef: t.mirrorRef,
        state: 'copying',
        source: 'import',
        attempts: 0,
        maxAttempts: this.maxAttempts(),
        lastError: null,
        nextAttemptAt: null,
        bytesTotal,
        bytesDone: 0,
        importFile: file,
        importNote: t.note ?? '',
      });
    }
  }

  /** Throttled progress ticks (at most one per second). */
  progress(targets: RecordTarget[], bytesDone: number, bytesTotal: number, force = false): void {
    const t = this.now();
    if (!force && t - this.lastProgress < 1000) return;
    this.lastProgress = t;
    for (const r of targets) void this.store.progress(r.ref, bytesDone, bytesTotal).catch(() => {});
  }

  async mirrored(file: string, t: RecordTarget, digest: string, bytes: number): Promise<void> {
    await this.write(t.ref, {
      ref: t.ref,
      mirrorRef: t.mirrorRef,
      state: 'mirrored',
      digest,
      mirroredAt: new Date(this.now()).toISOString(),
      source: 'import',
      attempts: 0,
      maxAttempts: this.maxAttempts(),
      lastError: null,
      nextAttemptAt: null,
      bytesTotal: bytes,
      bytesDone: bytes,
      importFile: file,
      importNote: t.note ?? '',
    });
  }

  /**
   * A failed import: `error` (permanent), or `retrying` with `nextAttemptAt`
   * when the watcher will try again. `lastError` names the file and the reason.
   */
  async failed(file: string, targets: RecordTarget[], err: FerryError, nextAttemptAt?: number): Promise<void> {
    const state: ImageState = nextAttemptAt !== undefined ? 'retrying' : 'error';
    for (const t of targets) {
      await this.write(t.ref, {
        ref: t.ref,
        mirrorRef: t.mirrorRef,
        state,
        source: 'import',
        attempts: 1,
        maxAttempts: this.maxAttempts(),
        lastError: `import of ${basename(file)} failed: [${err.code}] ${err.describe()}`,
        nextAttemptAt: nextAttemptAt !== undefined ? new Date(nextAttemptAt).toISOString() : null,
        importFile: file,
        importNote: t.note ?? '',
      });
    }
  }

  /** A name the config's `block:` rules keep out of the mirror: visible as `blocked`, with the rule's reason. */
  async blockedByConfig(file: string, t: RecordTarget, reason: string, digest?: string): Promise<void> {
    await this.write(t.ref, {
      ref: t.ref,
      mirrorRef: t.mirrorRef,
      state: 'blocked',
      blockedReason: `blocked by config: ${reason}`,
      digest: digest ?? null,
      source: 'import',
      attempts: 0,
      maxAttempts: this.maxAttempts(),
      lastError: null,
      nextAttemptAt: null,
      importFile: file,
      importNote: t.note ?? '',
    });
  }

  /** Drops the `import/<file>` error record of `file`, if that is what it is. */
  async clearFileRecord(ref: string, file: string): Promise<void> {
    const r = (await this.store.get(ref)) as (ImageRecord & { importFile?: string }) | undefined;
    if (r && r.source === 'import' && r.importFile === file && r.state !== 'mirrored') await this.store.remove(ref);
  }
}

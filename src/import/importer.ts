/**
 * One archive -> the mirror: open + index (pass 1), plan, name, push
 * (pass 2), records. Never throws for a bad archive: the result says what
 * went wrong, and the records say it too.
 */
import { stat } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FerryConfig } from '../config/types.js';
import type { FerryError } from '../errors.js';
import type { ImageStore } from '../queue/index.js';
import { blockRuleFor } from '../policy/index.js';
import { parseReference, repositoryOf, toMirrorReference } from '../reference/index.js';
import { detectFormat, openArchive, type Archive, type Compression, planDocker, asImportFailure, importError, fileRecordRef, planOci, type ArchiveFormat, type Plan, type PlannedImage } from '../archive/index.js';
import { importBlobs, importBytes, importDuration } from './metrics.js';
import { pushPlan, type BlobEvent, type LayerCache, type MirrorClient, type PushTarget } from './push.js';
import { ImportRecords, type RecordTarget } from './records.js';

/** What the importer needs from the process: a subset of RoleContext, so a RoleContext fits. */
export interface ImportDeps {
  config(): FerryConfig;
  logger: Logger;
  store: ImageStore;
  /** For the diffID cache and the watcher's file state. */
  connection: Redis;
  /** Defaults to `toMirrorReference(ref, config.mirror)`. */
  mirrorRefOf?(ref: string): string;
}

export interface ImportOptions {
  /** Upload client. @defaultValue a RegistryEngine made from the config (closed by its creator). */
  mirror?: MirrorClient;
  /**
   * docker-archive layers: `gzip` = compressed on the fly (schema2 `.tar.gzip`),
   * `none` = pushed uncompressed (`.tar`, digest = diffID).
   * @defaultValue 'gzip'
   */
  layerCompression?: 'gzip' | 'none';
  /** zlib level for on-the-fly compression. @defaultValue 1 */
  gzipLevel?: number;
  /** Blobs streamed at once from a plain tar. @defaultValue config.copy.layerConcurrency */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called for every blob pushed or skipped. */
  onBlob?: (e: BlobEvent) => void;
  /** Set by the watcher: a transient failure becomes `retrying` with this time instead of `error`. */
  retryAt?: (err: FerryError) => number | undefined;
  now?: () => number;
}

export interface ImportedImage {
  ref: string;
  mirrorRef: string;
  digest: string;
  mediaType: string;
  /** The repository was derived from the file name. */
  nameFromFile: boolean;
  note?: string;
}

export interface ImportResult {
  ok: boolean;
  file: string;
  format?: ArchiveFormat;
  compression?: Compression;
  images: ImportedImage[];
  /** Names kept out of the mirror: by the config's `block:` rules (then recorded as `blocked`), or by a `blocked` record. */
  blocked: { ref: string; reason: string; digest?: string }[];
  /** Record refs written (images, or `import/<file>` when no name was known). */
  refs: string[];
  blobsPushed: number;
  blobsSkipped: number;
  bytesPushed: number;
  durationMs: number;
  error?: FerryError;
  notes: string[];
}

export const LAYER_CACHE_KEY = (prefix: string) => `${prefix}:import:layers`;

/** diffID -> compressed blob in `<prefix>:import:layers` (a Redis hash). */
export function redisLayerCache(redis: Redis, prefix: string): LayerCache {
  const key = LAYER_CACHE_KEY(prefix);
  return {
    async get(diffId) {
      const v = await redis.hget(key, diffId);
      if (!v) return undefined;
      try {
        const p = JSON.parse(v) as { digest?: unknown; size?: unknown };
        return typeof p.digest === 'string' && typeof p.size === 'number' ? { digest: p.digest, size: p.size } : undefined;
      } catch {
        return undefined;
      }
    },
    async set(diffId, blob) {
      await redis.hset(key, diffId, JSON.stringify(blob));
    },
  };
}

function sameFile(a: { size: number; mtimeMs: number; ino: number }, b: { size: number; mtimeMs: number; ino: number }): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

function targetsFor(plan: Plan, mirrorRefOf: (ref: string) => string): Map<PlannedImage, PushTarget[]> {
  const out = new Map<PlannedImage, PushTarget[]>();
  for (const img of plan.images) {
    out.set(
      img,
      img.names.map((name) => {
        const mirrorRef = mirrorRefOf(name.ref);
        const m = parseReference(mirrorRef);
        return { name, mirrorRef, repository: repositoryOf(m), ...(m.tag ? { tag: m.tag } : {}), ...(m.digest ? { digest: m.digest } : {}) };
      }),
    );
  }
  return out;
}

/** What a log line says about a successful import (the watcher and `ferry import` log the same). */
export function importSummary(r: ImportResult): Record<string, unknown> {
  return {
    file: r.file,
    format: r.format,
    compression: r.compression,
    images: r.images.map((i) => ({ ref: i.ref, mirrorRef: i.mirrorRef, digest: i.digest, ...(i.note ? { note: i.note } : {}) })),
    ...(r.blocked.length ? { blocked: r.blocked } : {}),
    blobsPushed: r.blobsPushed,
    blobsSkipped: r.blobsSkipped,
    bytesPushed: r.bytesPushed,
    ms: r.durationMs,
  };
}

/** Imports one archive. Resolves with ok=false (and error records written) on any failure. */
export async function importFile(file: string, deps: ImportDeps, opts: ImportOptions = {}): Promise<ImportResult> {
  const now = opts.now ?? Date.now;
  const t0 = now();
  const config = deps.config();
  const log = deps.logger.child({ file });
  const records = new ImportRecords(deps.store, () => deps.config().queue.maxAttempts, now);
  const mirrorRefOf = deps.mirrorRefOf ?? ((ref: string) => toMirrorReference(ref, config.mirror));
  const result: ImportResult = { ok: false, file, images: [], blocked: [], refs: [], blobsPushed: 0, blobsSkipped: 0, bytesPushed: 0, durationMs: 0, notes: [] };
  let recordTargets: RecordTarget[] = [];
  let archive: Archive | undefined;
  let ownMirror: { close(): Promise<void> } | undefined;
  try {
    const before = await stat(file);
    archive = await openArchive(file, opts.signal);
    result.compression = archive.compression;
    const format = detectFormat(archive);
    result.format = format;
    const plan = format === 'docker-archive' ? await planDocker(archive, file) : await planOci(archive, file);
    result.notes.push(...plan.notes);
    for (const n of plan.notes) log.info({ format }, `import: ${n}`);
    const targets = targetsFor(plan, mirrorRefOf);
    const all = [...targets.values()].flat();
    const blocked = await records.blocked(all.map((t) => t.name.ref));
    const refuse = async (t: PushTarget, reason: string, digest?: string) => {
      log.warn({ ref: t.name.ref, reason, ...(digest ? { digest } : {}) }, 'image is blocked by config: not imported');
      result.blocked.push({ ref: t.name.ref, reason, ...(digest ? { digest } : {}) });
      await records.blockedByConfig(file, { ref: t.name.ref, mirrorRef: t.mirrorRef, note: t.name.note }, reason, digest);
    };
    for (const [img, ts] of targets) {
      const kept: PushTarget[] = [];
      for (const t of ts) {
        const rule = blockRuleFor(config, t.name.ref)?.reason;
        const held = blocked.get(t.name.ref);
        if (held !== undefined) {
          log.warn({ ref: t.name.ref, reason: held }, 'image is blocked: not imported');
          result.blocked.push({ ref: t.name.ref, reason: held });
        } else if (rule) await refuse(t, rule);
        else kept.push(t);
      }
      targets.set(img, kept);
    }
    recordTargets = [...targets.values()].flat().map((t) => ({ ref: t.name.ref, mirrorRef: t.mirrorRef, note: t.name.note }));
    result.refs = recordTargets.map((t) => t.ref);
    const bytesTotal = plan.images.reduce((n, img) => n + img.blobs.reduce((m, b) => m + (b.size ?? b.bytes?.length ?? 0), 0), 0);
    await records.copying(file, recordTargets, bytesTotal);

    let mirror = opts.mirror;
    if (!mirror) {
      const { RegistryEngine } = await import('../registry/index.js');
      const engine = new RegistryEngine({ config, logger: log });
      mirror = engine;
      ownMirror = engine;
    }
    let done = 0;
    const stats = await pushPlan(archive, plan, targets, {
      mirror,
      concurrency: Math.max(1, opts.concurrency ?? config.copy.layerConcurrency),
      layerCompression: opts.layerCompression ?? 'gzip',
      gzipLevel: opts.gzipLevel ?? 1,
      layerCache: redisLayerCache(deps.connection, config.queue.prefix),
      signal: opts.signal,
      onBlob: (e) => {
        importBlobs.inc({ result: e.skipped ? 'skipped' : 'pushed' });
        if (!e.skipped) importBytes.inc(e.size);
        log.debug({ ...e }, e.skipped ? 'blob already in the mirror' : 'blob pushed');
        opts.onBlob?.(e);
      },
      onBytes: (n) => {
        done += n;
        records.progress(recordTargets, done, bytesTotal);
      },
      blockedBy: (t, digest) => blockRuleFor(config, t.name.ref, digest)?.reason,
    });
    for (const b of stats.blocked) await refuse(b.target, b.reason, b.digest);
    const after = await stat(file);
    if (!sameFile(before, after)) throw importError('CHANGED', 'the file changed while it was imported');
    Object.assign(result, { blobsPushed: stats.blobsPushed, blobsSkipped: stats.blobsSkipped, bytesPushed: stats.bytesPushed });
    for (const p of stats.images) {
      const t = recordTargets.find((r) => r.ref === p.target.name.ref)!;
      await records.mirrored(file, t, p.digest, p.bytes);
      result.images.push({
        ref: p.target.name.ref,
        mirrorRef: p.target.mirrorRef,
        digest: p.digest,
        mediaType: p.mediaType,
        nameFromFile: p.target.name.fromFile,
        ...(p.target.name.note ? { note: p.target.name.note } : {}),
      });
    }
    await records.clearFileRecord(fileRecordRef(file), file);
    result.ok = true;
  } catch (e) {
    const err = opts.signal?.aborted ? importError('ABORTED', 'import cancelled (shutdown)', { cause: e }) : asImportFailure(e);
    result.error = err;
    if (recordTargets.length === 0) {
      recordTargets = [{ ref: fileRecordRef(file), mirrorRef: '' }];
      result.refs = [recordTargets[0]!.ref];
    }
    const retryAt = err.transient ? opts.retryAt?.(err) : undefined;
    try {
      await records.failed(file, recordTargets, err, retryAt);
    } catch (re) {
      log.warn({ err: (re as Error).message }, 'could not write the error record');
    }
  } finally {
    await archive?.close();
    await ownMirror?.close();
  }
  result.durationMs = now() - t0;
  if (result.format) importDuration.observe({ format: result.format }, result.durationMs / 1000);
  return result;
}

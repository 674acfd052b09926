/**
 * One garbage-collection run: the I/O around planGc (plan.ts, pure). It
 * refuses to run blind: without a live pod watch ferry cannot tell what
 * runs, and deleting then is exactly the data loss GC must never cause.
 * A real run deletes each manifest from the mirror by digest, then removes
 * the records that pointed at it (admission must never rewrite to a
 * missing image; asked for again, an image is simply mirrored again).
 * Blobs stay until the mirror's own garbage collection.
 *
 * The caller runs one at a time across replicas (src/watch/maintenance.ts
 * holds a Redis lock); the report goes to gcReportKey (GET /api/gc).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { pool } from '../async/index.js';
import { parseDuration, type FerryConfig } from '../config/index.js';
import { describeError, isFerryError } from '../errors.js';
import type { InUseStore } from '../in-use/index.js';
import type { ImageRecord, ImageStore } from '../queue/index.js';
import { parseReference, repositoryOf } from '../reference/index.js';
import { codeOf } from '../registry/index.js';
import { gcKeys } from './keys.js';
import * as metrics from './metrics.js';
import { mirrorRepositoryOf, planGc, type GcDeletion, type GcPlanInput } from './plan.js';
import { forgetSuperseded, readSuperseded, type SupersededDigest } from './superseded.js';
import type { GcItem, GcReport } from './types.js';

/** What GC needs from the registry engine (RegistryEngine implements it), against the mirror. */
export interface GcEngine {
  getManifest(ref: string, signal?: AbortSignal): Promise<{ digest: string; mediaType: string; json: any }>;
  deleteManifest(repository: string, digest: string, signal?: AbortSignal): Promise<boolean>;
}

export interface GcDeps {
  config(): FerryConfig;
  redis: Redis;
  store: ImageStore;
  /** The in-use index; absent when this process watches no pods (then GC refuses to run). */
  inUse?: Pick<InUseStore, 'live' | 'usedBy' | 'digestUses'> | undefined;
  engine: GcEngine;
  logger: Logger;
  /** @defaultValue Date.now (tests move a clock) */
  now?: () => number;
  /** Aborted on shutdown: the deletes not yet made are reported as not attempted. */
  signal?: AbortSignal;
}

const INDEX_READS_AT_ONCE = 4;

const iso = (ms: number): string => new Date(ms).toISOString();

export async function runGc(d: GcDeps): Promise<GcReport> {
  const now = d.now ?? Date.now;
  const cfg = d.config();
  const k = gcKeys(cfg.queue.prefix);
  const started = now();
  const report: GcReport = {
    startedAt: iso(started),
    finishedAt: '',
    dryRun: cfg.gc.dryRun,
    unusedFor: cfg.gc.unusedFor,
    keepUnusedFor: cfg.gc.keepUnusedFor,
    removed: [],
    protected: [],
    errors: [],
    skipped: null,
  };
  report.skipped = await whySkip(d, cfg);
  if (report.skipped || !d.inUse) return finish(d, report, now);
  const inUse = d.inUse;

  // Unused time of records no pod was ever seen running counts from the first run with a live pod watch, no earlier.
  await d.redis.set(k.trackedSince, String(started), 'NX');
  const trackedSince = Number(await d.redis.get(k.trackedSince)) || started;
  const records = await d.store.listAll();
  const superseded = await readSuperseded(d.redis, cfg.queue.prefix);
  const mirrored = records.filter((r) => r.state === 'mirrored' && r.source !== 'watch');
  const usedBy = await inUse.usedBy(mirrored.map((r) => r.ref));
  const digestUses = await inUse.digestUses([...mirrored.flatMap((r) => [r.digest, r.sourceDigest]), ...superseded.map((s) => s.digest)].filter((x): x is string => !!x));
  const input: GcPlanInput = {
    records,
    usedBy,
    digestUses,
    superseded,
    now: started,
    unusedForMs: parseDuration(cfg.gc.unusedFor),
    keepUnusedForMs: parseDuration(cfg.gc.keepUnusedFor),
    trackedSince,
  };
  let plan = planGc(input);
  if (plan.deletions.length) {
    // Second pass: the indexes of the repositories where something would go (their children must stay with them).
    const repos = new Set(plan.deletions.map((x) => x.repository));
    plan = planGc({ ...input, indexChildren: await readIndexes(d, repos, records, superseded) });
  }
  report.protected = plan.protected;
  if (cfg.gc.dryRun) {
    report.removed = plan.remove;
  } else {
    await deleteAll(d, plan.deletions, report, input.keepUnusedForMs, now);
  }
  metrics.removed.inc({ dry_run: String(cfg.gc.dryRun) }, report.removed.length);
  return finish(d, report, now);
}

async function whySkip(d: GcDeps, cfg: FerryConfig): Promise<string | null> {
  if (!cfg.gc.enabled) return 'gc.enabled is false';
  if (!d.inUse) {
    return 'ferry watches no pods here (no kubeconfig or in-cluster account, or kubernetes.podInformer: off): it cannot tell what runs, so GC deletes nothing';
  }
  const live = await d.inUse.live();
  if (live.live) return null;
  return live.syncedAt
    ? `the pod watch is not live (last synced ${live.syncedAt}): ferry cannot tell what runs now, so GC deletes nothing`
    : 'the pod watch has not synced yet: ferry cannot tell what runs, so GC deletes nothing';
}

/** `<repo>@<digest>` -> child digests of every manifest of those repositories that records or notes point at. */
async function readIndexes(d: GcDeps, repos: ReadonlySet<string>, records: readonly ImageRecord[], superseded: readonly SupersededDigest[]): Promise<Map<string, string[] | null>> {
  const wanted = new Set<string>();
  for (const r of records) {
    const repo = r.digest ? mirrorRepositoryOf(r.mirrorRef) : undefined;
    if (repo && repos.has(repo)) wanted.add(`${repo}@${r.digest}`);
  }
  for (const s of superseded) if (repos.has(s.repository)) wanted.add(`${s.repository}@${s.digest}`);
  const out = new Map<string, string[] | null>();
  await pool([...wanted], INDEX_READS_AT_ONCE, d.signal, async (ref, signal) => {
    try {
      const m = await d.engine.getManifest(ref, signal);
      const children = Array.isArray(m.json?.manifests) ? m.json.manifests.map((c: { digest?: unknown }) => c?.digest).filter((x: unknown): x is string => typeof x === 'string') : [];
      out.set(ref, children);
    } catch (e) {
      const gone = isFerryError(e) && (e.code === codeOf('MANIFEST_UNKNOWN') || e.code === codeOf('NAME_UNKNOWN'));
      out.set(ref, gone ? [] : null);
      if (!gone) d.logger.warn({ manifest: ref, err: describeError(e) }, 'gc: cannot read a mirror manifest; nothing of its repository is deleted this run');
    }
  });
  return out;
}

async function deleteAll(d: GcDeps, deletions: readonly GcDeletion[], report: GcReport, keepUnusedForMs: number, now: () => number): Promise<void> {
  const prefix = d.config().queue.prefix;
  for (let n = 0; n < deletions.length; n++) {
    const del = deletions[n]!;
    const stop = d.signal?.aborted ? 'ferry was shutting down' : await whyStopDeleting(d);
    if (stop) {
      if (!d.signal?.aborted) d.logger.warn({ reason: stop, left: deletions.length - n }, 'gc: stopped deleting');
      for (const rest of deletions.slice(n)) report.errors.push(...withReason(rest.items, `not attempted: ${stop}`));
      return;
    }
    const changed = await changedMeanwhile(d, del, keepUnusedForMs, now());
    if (changed) {
      report.protected.push(...withReason(del.items, changed));
      continue;
    }
    try {
      await d.engine.deleteManifest(del.repository, del.digest, d.signal);
    } catch (e) {
      report.errors.push(...withReason(del.items, describeError(e)));
      if (isFerryError(e) && e.code === codeOf('DELETE_DISABLED')) {
        d.logger.warn({ mirror: del.repository, err: describeError(e) }, 'gc: the mirror refuses deletes; nothing more is removed this run');
        for (const rest of deletions.slice(n + 1)) report.errors.push(...withReason(rest.items, 'not attempted: the mirror refuses deletes (storage.delete.enabled: false)'));
        return;
      }
      d.logger.warn({ mirror: del.repository, digest: del.digest, err: describeError(e) }, 'gc: delete failed');
      continue;
    }
    // The manifest is gone (or was already): records pointing at it would make admission rewrite to a missing image.
    for (const ref of del.refs) await d.store.remove(ref);
    if (del.superseded) await forgetSuperseded(d.redis, prefix, [del]);
    report.removed.push(...del.items);
    d.logger.info({ mirror: del.repository, digest: del.digest, records: del.refs }, 'gc: deleted an unused manifest from the mirror');
  }
}

/**
 * Just before each delete: may the run still delete at all? A reload may
 * have turned GC off or to dryRun, and the in-use index must still be live:
 * the checks below read it, and a dead pod watch (or a Redis that lost its
 * data) would show them nothing running.
 */
async function whyStopDeleting(d: GcDeps): Promise<string | undefined> {
  const gc = d.config().gc;
  if (!gc.enabled) return 'gc.enabled was turned off during the run';
  if (gc.dryRun) return 'gc.dryRun was turned on during the run';
  if (!(await d.inUse!.live()).live) return 'the pod watch stopped being live during the run: ferry cannot tell what runs';
  return undefined;
}

/**
 * Just before a delete: did anything change since the plan (a pod started,
 * the record was asked for again or re-copied, a new record points at the
 * digest)? Then the reason, and the manifest stays.
 */
async function changedMeanwhile(d: GcDeps, del: GcDeletion, keepUnusedForMs: number, at: number): Promise<string | undefined> {
  const records = await d.store.getMany(del.refs);
  const useDigests = new Set([del.digest]);
  for (const [n, r] of records.entries()) {
    if (!r) continue; // removed meanwhile (through the API): nothing of it to keep
    if (r.state !== 'mirrored' || r.digest !== del.digest || r.source === 'watch') return `${del.refs[n]} changed during the run (now ${r.state}${r.digest !== del.digest ? ` at ${r.digest}` : ''})`;
    if (r.sourceDigest) useDigests.add(r.sourceDigest);
  }
  const used = [...(await d.inUse!.usedBy(del.refs))].find(([, u]) => u.pods > 0);
  if (used) return `${used[0]} came into use during the run`;
  for (const [digest, u] of await d.inUse!.digestUses([...useDigests])) {
    if (u.running > 0 || Date.parse(u.lastSeenAt) > at - keepUnusedForMs) return `digest ${digest} came into use during the run`;
  }
  const upstreamRepos = new Set(del.items.map((i) => upstreamRepositoryOf(i.ref)).filter((x): x is string => !!x));
  for (const repo of upstreamRepos) {
    for (const r of await d.store.getMany(await d.store.refsOfRepository(repo))) {
      if (r && r.digest === del.digest && !del.refs.includes(r.ref) && mirrorRepositoryOf(r.mirrorRef) === del.repository) return `${r.ref} now points at the same manifest`;
    }
  }
  return undefined;
}

function upstreamRepositoryOf(ref: string): string | undefined {
  try {
    return repositoryOf(parseReference(ref));
  } catch {
    return undefined;
  }
}

function withReason(items: readonly GcItem[], reason: string): GcItem[] {
  return items.map((i) => ({ ...i, reason }));
}

async function finish(d: GcDeps, report: GcReport, now: () => number): Promise<GcReport> {
  const end = now();
  report.finishedAt = iso(end);
  if (!report.skipped) metrics.lastRun.set(end / 1000);
  await d.redis.set(gcKeys(d.config().queue.prefix).report, JSON.stringify(report));
  const summary = { dryRun: report.dryRun, removed: report.removed.length, protected: report.protected.length, errors: report.errors.length };
  if (report.skipped) d.logger.info({ reason: report.skipped }, 'gc skipped');
  else d.logger.info(summary, report.dryRun ? 'gc dry run: nothing deleted' : 'gc run finished');
  return report;
}

/**
 * One retention pass (`keep: N`) of one watch: the I/O around planRetention
 * (retention.ts, pure). Reconciles holdings, deletes the manifests past
 * `keep` from the mirror by digest, drops the watch's own records that
 * pointed at them (admission must never rewrite to a missing image), and
 * keeps the outcome in the watch status. The caller holds the watch's lock.
 * The selected digest and the one the watch's alias points at (alias.ts)
 * always stay.
 *
 * With the in-use index (`inUse`: this process watches pods), a digest a pod
 * runs or ran within gc.keepUnusedFor stays, and while the pod watch is not
 * live nothing is deleted at all: deleting blind could take an image from
 * under a running pod. Without it (no cluster), records alone protect.
 */
import type { Logger } from 'pino';
import { DEFAULTS, parseDuration } from '../config/index.js';
import { describeError, isFerryError } from '../errors.js';
import type { InUseStore } from '../in-use/index.js';
import type { ImageRecord, ImageStore } from '../queue/index.js';
import { parseReference, repositoryOf } from '../reference/index.js';
import { codeOf } from '../registry/index.js';
import { tagRef, type ResolvedWatch } from './definition.js';
import { reconcileHoldings } from './holdings.js';
import * as metrics from './metrics.js';
import type { WatchEngine } from './observe.js';
import { planRetention, type RetentionRuns } from './retention.js';
import type { WatchState } from './state.js';

export interface RetentionReport {
  id: string;
  keep: number;
  deleted: string[];
  protected: string[];
  /** digest -> why it is protected. */
  reasons: Record<string, string>;
  /** Set when nothing was deleted on purpose, and why. */
  skipped: string | null;
  refused: boolean;
  errors: string[];
  /** Digests the mirror holds for this watch after the pass. */
  held: string[];
}

export interface RetentionPassDeps {
  state: WatchState;
  store: ImageStore;
  engine: Pick<WatchEngine, 'deleteManifest'>;
  logger: Logger;
  mirrorRefOf(ref: string): string;
  /** Aborted when the watcher closes: stops the deletes in flight. */
  signal: AbortSignal;
  /** The in-use index, when this process watches pods (its clock is the one its last-seen times were written with). */
  inUse?: Pick<InUseStore, 'live' | 'digestUses' | 'usedBy' | 'now'> | undefined;
  /** gc.keepUnusedFor, read at each pass. @defaultValue DEFAULTS.gc.keepUnusedFor */
  keepUnusedFor?: () => string;
}

export async function runRetentionPass(d: RetentionPassDeps, w: ResolvedWatch): Promise<RetentionReport> {
  const { refs, records, held } = await reconcileHoldings(d.state, d.store, w);
  const keep = w.config.keep ?? 0;
  const live = () => [...new Set(held.filter((e) => !e.deletedAt).map((e) => e.digest))];
  if (keep < 1) return { id: w.id, keep: 0, deleted: [], protected: [], reasons: {}, skipped: null, refused: false, errors: [], held: live() };
  const status = await d.state.status(w.id);
  const selectedRef = status.selected ? tagRef(w, status.selected.tag) : undefined;
  const pinnedDigest = selectedRef ? records.get(selectedRef)?.digest : undefined;
  // The alias's digest too: until the new selection's copy lands the alias stays on the previous one, and a
  // delete by digest would take the alias tag with it (pods naming mirror/...:<alias> would break).
  const aliasDigest = w.config.alias && status.alias?.tag === w.config.alias ? status.alias.digest : null;
  const owned = new Set([...refs].filter(([, e]) => e.owned).map(([ref]) => ref));
  const base = { keep, held, pinned: new Set([pinnedDigest, aliasDigest].filter((x): x is string => !!x)), owned };
  // Only look at other records when something is past `keep`, and only at this repository's:
  // a record of another repository lives in another mirror repository, which no delete here touches.
  let plan = planRetention({ ...base, records: [] });
  let skipped: string | null = null;
  if (plan.delete.length) {
    const podWatch = d.inUse ? await d.inUse.live() : undefined;
    if (podWatch && !podWatch.live) {
      skipped = `${plan.delete.length} manifest(s) past keep stay: the pod watch is ${podWatch.syncedAt ? `not live (last synced ${podWatch.syncedAt})` : 'not synced yet'}, so ferry cannot tell what runs`;
      plan = { ...plan, delete: [] };
    } else {
      const others = (await d.store.getMany(await d.store.refsOfRepository(w.repository))).filter((r): r is ImageRecord => r !== undefined);
      plan = planRetention({ ...base, records: others, ...(d.inUse ? { runs: await runsOf(d, d.inUse, plan.delete, others) } : {}) });
    }
  }
  const report: RetentionReport = { id: w.id, keep, deleted: [], protected: plan.protected, reasons: plan.reasons, skipped, refused: false, errors: [], held: [] };
  const prev = status.retention;
  if (skipped && !prev?.skipped) d.logger.warn({ watch: w.id, reason: skipped }, 'retention deletes nothing while the pod watch is not live');
  let deleteDisabled = prev?.deleteDisabled ?? false;
  const mirrorRepo = repositoryOf(parseReference(d.mirrorRefOf(tagRef(w, 'latest'))));
  for (const digest of plan.delete) {
    try {
      await d.engine.deleteManifest(mirrorRepo, digest, d.signal);
    } catch (e) {
      if (isFerryError(e) && e.code === codeOf('DELETE_DISABLED')) {
        report.refused = true;
        if (!deleteDisabled) d.logger.warn({ watch: w.id, mirror: mirrorRepo, err: describeError(e) }, 'the mirror refuses deletes: retention cannot remove old manifests');
        deleteDisabled = true;
        metrics.deletions.inc({ outcome: 'refused' });
        report.errors.push(describeError(e));
        break;
      }
      metrics.deletions.inc({ outcome: 'failed' });
      report.errors.push(describeError(e));
      d.logger.warn({ watch: w.id, digest, err: describeError(e) }, 'retention delete failed');
      continue;
    }
    deleteDisabled = false;
    report.deleted.push(digest);
    metrics.deletions.inc({ outcome: 'deleted' });
    const at = new Date().toISOString();
    for (const e of held) if (e.digest === digest && !e.deletedAt) e.deletedAt = at;
    await d.state.setHeld(w.id, held.filter((e) => e.digest === digest));
    // Records the watch created that still point at the deleted manifest would make admission rewrite to a missing image.
    const stale = [...owned].filter((ref) => records.get(ref)?.digest === digest);
    for (const ref of stale) await d.store.remove(ref);
    await d.state.dropRefs(w.id, stale);
    d.logger.info({ watch: w.id, mirror: mirrorRepo, digest, records: stale }, 'retention: deleted an old manifest from the mirror');
  }
  if (plan.protected.length) metrics.deletions.inc({ outcome: 'protected' }, plan.protected.length);
  status.retention = {
    keep,
    lastRunAt: new Date().toISOString(),
    deletedTotal: (prev?.deletedTotal ?? 0) + report.deleted.length,
    deleteDisabled,
    lastError: report.errors.at(-1) ?? (report.deleted.length ? null : (prev?.lastError ?? null)),
    protected: plan.protected,
    skipped,
  };
  await d.state.setStatus(w.id, status);
  report.held = live();
  return report;
}

/** What the index says about the digests retention would delete (their upstream twins, and the refs of the records on them). */
async function runsOf(d: RetentionPassDeps, inUse: NonNullable<RetentionPassDeps['inUse']>, digests: readonly string[], records: readonly ImageRecord[]): Promise<RetentionRuns> {
  const aliases = new Map<string, string[]>();
  const onThem = records.filter((r) => r.digest && digests.includes(r.digest));
  for (const r of onThem) {
    if (!r.sourceDigest || r.sourceDigest === r.digest) continue;
    aliases.set(r.digest!, [...(aliases.get(r.digest!) ?? []), r.sourceDigest]);
  }
  const [uses, named] = await Promise.all([inUse.digestUses([...digests, ...[...aliases.values()].flat()]), inUse.usedBy(onThem.map((r) => r.ref))]);
  return { uses, now: inUse.now(), keepUnusedForMs: parseDuration(d.keepUnusedFor?.() ?? DEFAULTS.gc.keepUnusedFor), aliases, named };
}

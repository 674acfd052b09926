/**
 * One retention pass (`keep: N`) of one watch: the I/O around planRetention
 * (retention.ts, pure). Reconciles holdings, deletes the manifests past
 * `keep` from the mirror by digest, drops the watch's own records that
 * pointed at them (admission must never rewrite to a missing image), and
 * keeps the outcome in the watch status. The caller holds the watch's lock.
 */
import type { Logger } from 'pino';
import { describeError, isFerryError } from '../errors.js';
import type { ImageRecord, ImageStore } from '../queue/index.js';
import { parseReference, repositoryOf } from '../reference/index.js';
import { codeOf } from '../registry/index.js';
import { tagRef, type ResolvedWatch } from './definition.js';
import { reconcileHoldings } from './holdings.js';
import * as metrics from './metrics.js';
import type { WatchEngine } from './observe.js';
import { planRetention } from './retention.js';
import type { WatchState } from './state.js';

export interface RetentionReport {
  id: string;
  keep: number;
  deleted: string[];
  protected: string[];
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
}

export async function runRetentionPass(d: RetentionPassDeps, w: ResolvedWatch): Promise<RetentionReport> {
  const { refs, records, held } = await reconcileHoldings(d.state, d.store, w);
  const keep = w.config.keep ?? 0;
  const live = () => [...new Set(held.filter((e) => !e.deletedAt).map((e) => e.digest))];
  if (keep < 1) return { id: w.id, keep: 0, deleted: [], protected: [], refused: false, errors: [], held: live() };
  const status = await d.state.status(w.id);
  const selectedRef = status.selected ? tagRef(w, status.selected.tag) : undefined;
  const pinnedDigest = selectedRef ? records.get(selectedRef)?.digest : undefined;
  const owned = new Set([...refs].filter(([, e]) => e.owned).map(([ref]) => ref));
  const base = { keep, held, pinned: new Set(pinnedDigest ? [pinnedDigest] : []), owned };
  // Only look at other records when something is past `keep`, and only at this repository's:
  // a record of another repository lives in another mirror repository, which no delete here touches.
  let plan = planRetention({ ...base, records: [] });
  if (plan.delete.length) {
    const others = await d.store.getMany(await d.store.refsOfRepository(w.repository));
    plan = planRetention({ ...base, records: others.filter((r): r is ImageRecord => r !== undefined) });
  }
  const report: RetentionReport = { id: w.id, keep, deleted: [], protected: plan.protected, refused: false, errors: [], held: [] };
  const prev = status.retention;
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
  };
  await d.state.setStatus(w.id, status);
  report.held = live();
  return report;
}

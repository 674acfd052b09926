/**
 * Retention (`keep: N`): the mirror keeps the N digests the watch saw it hold
 * most recently (plus whatever the current selection's record holds); older
 * manifests are deleted from the mirror by digest. A digest stays while an
 * image record the watch does not own still points at it (a pod may run it).
 * planRetention is pure; retention-pass.ts does the I/O.
 */
import type { ImageRecord } from '../queue/index.js';
import type { HeldEntry } from './state.js';

export interface RetentionPlan {
  keep: string[];
  delete: string[];
  /** Past `keep` but still used by an image record the watch does not own. */
  protected: string[];
}

export interface RetentionInput {
  keep: number;
  held: readonly HeldEntry[];
  /** Digests that must stay whatever their age (what the selected tag's record holds now). */
  pinned: ReadonlySet<string>;
  /** Image records of the watched repository (ref, digest): the only ones that can use its mirror manifests. */
  records: readonly Pick<ImageRecord, 'ref' | 'digest'>[];
  /** Refs whose records the watch created: they do not protect a digest. */
  owned: ReadonlySet<string>;
}

export function planRetention(i: RetentionInput): RetentionPlan {
  const recency = new Map<string, number>();
  for (const e of i.held) {
    if (e.deletedAt) continue;
    recency.set(e.digest, Math.max(recency.get(e.digest) ?? -Infinity, e.seq));
  }
  const byAge = [...recency.keys()].sort((a, b) => recency.get(b)! - recency.get(a)!);
  const keep = byAge.filter((d) => i.pinned.has(d));
  for (const d of byAge) if (keep.length < i.keep && !keep.includes(d)) keep.push(d);
  const rest = byAge.filter((d) => !keep.includes(d));
  const used = new Set(i.records.filter((r) => r.digest && !i.owned.has(r.ref)).map((r) => r.digest!));
  return { keep, delete: rest.filter((d) => !used.has(d)), protected: rest.filter((d) => used.has(d)) };
}

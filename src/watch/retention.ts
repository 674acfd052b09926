/**
 * Retention (`keep: N`): the mirror keeps the N digests the watch saw it hold
 * most recently (plus whatever the current selection's record holds); older
 * manifests are deleted from the mirror by digest. A digest stays while
 * - an image record the watch does not own still points at it, or
 * - a pod runs it, or ran it within `gc.keepUnusedFor` (in-use index; the
 *   same rule GC applies, `digestUseReason`), whoever owns its record: a
 *   digest pinned by `rewrite.pinDigest` or a pod started before the tag
 *   moved must not lose its image under it.
 * planRetention is pure; retention-pass.ts does the I/O.
 */
import { digestUseReason } from '../gc/index.js';
import type { DigestUse, UsedBy } from '../in-use/index.js';
import type { ImageRecord } from '../queue/index.js';
import type { HeldEntry } from './state.js';

export interface RetentionPlan {
  keep: string[];
  delete: string[];
  /** Past `keep` but still used by an image record the watch does not own, or run by a pod. */
  protected: string[];
  /** digest -> why it is protected. */
  reasons: Record<string, string>;
}

/** What the in-use index says about the held digests (absent when ferry watches no pods). */
export interface RetentionRuns {
  /** When each digest was last run. */
  uses: ReadonlyMap<string, DigestUse>;
  now: number;
  keepUnusedForMs: number;
  /** Mirror digest -> the upstream digest(s) of the same image (records' sourceDigest, when an index was filtered). */
  aliases?: ReadonlyMap<string, readonly string[]>;
  /**
   * `usedBy` of the records' refs: a pod that names a tag but runs no digest
   * yet (pending, pulling, init containers first) pulls what its record
   * points at, so that digest stays too.
   */
  named?: ReadonlyMap<string, UsedBy>;
}

export interface RetentionInput {
  keep: number;
  held: readonly HeldEntry[];
  /** Digests that must stay whatever their age (what the selected tag's record holds now). */
  pinned: ReadonlySet<string>;
  /** Image records of the watched repository (ref, digest): the only ones that can use its mirror manifests. */
  records: readonly Pick<ImageRecord, 'ref' | 'digest'>[];
  /** Refs whose records the watch created: they do not protect a digest (a running pod does: `runs`). */
  owned: ReadonlySet<string>;
  runs?: RetentionRuns;
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
  const reasons: Record<string, string> = {};
  for (const r of i.records) if (r.digest && !i.owned.has(r.ref) && !reasons[r.digest]) reasons[r.digest] = `used by the image record ${r.ref}`;
  if (i.runs) {
    const { uses, now, keepUnusedForMs, aliases, named } = i.runs;
    for (const d of rest) {
      const why = reasons[d] ? undefined : digestUseReason([d, ...(aliases?.get(d) ?? [])], uses, now - keepUnusedForMs);
      if (why) reasons[d] = why;
    }
    for (const r of i.records) {
      const pods = named?.get(r.ref)?.pods ?? 0;
      if (r.digest && pods > 0 && !reasons[r.digest]) reasons[r.digest] = `${r.ref} is named by ${pods} pod${pods === 1 ? '' : 's'}, which pull${pods === 1 ? 's' : ''} this digest`;
    }
  }
  const isProtected = (d: string) => reasons[d] !== undefined;
  const protectedDigests = rest.filter(isProtected);
  return {
    keep,
    delete: rest.filter((d) => !isProtected(d)),
    protected: protectedDigests,
    reasons: Object.fromEntries(protectedDigests.map((d) => [d, reasons[d]!])),
  };
}

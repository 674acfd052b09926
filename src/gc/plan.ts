/**
 * The garbage-collection plan (pure, no I/O): which mirrored images no pod
 * used for `gc.unusedFor` go, and which of those must stay.
 *
 * Candidates:
 * - image records in state `mirrored` with a digest, whose ref no pod names
 *   now and none named within `unusedFor` (`usedBy.lastSeenAt`; never seen:
 *   `mirroredAt`, but never earlier than `trackedSince`, the first run that
 *   found a live pod watch: before it, ferry did not know what ran);
 * - digests drift refresh moved a tag away from (superseded.ts), superseded
 *   for `keepUnusedFor`.
 * Never candidates, listed nowhere:
 * - records a watch owns (`source: watch`): the watch's retention (`keep`)
 *   decides about them and the digests it holds;
 * - records not `mirrored` (queued, copying, retrying, error): someone asked
 *   for them again, or the copy is failing; the digest they still point at
 *   stays while they do;
 * - `blocked` records: the record *is* the block (a dashboard block lives
 *   only there), and admission denies the image anyway, so nothing is ever
 *   rewritten to it. Remove one through the API.
 * Protected (unused long enough, kept, listed with the reason):
 * - imported records (`source: import`): ferry has no upstream to copy
 *   them from again;
 * - a digest a pod runs, or ran within `keepUnusedFor` (the in-use index
 *   counts `mirror@digest` pods too, so `rewrite.pinDigest` pins are seen);
 * - a digest another kept record of the same mirror repository points at: a
 *   manifest DELETE by digest drops every tag of that repository on it;
 * - a child manifest of an index that stays (deleting it would break that
 *   index for its platform); run.ts reads the indexes of the repositories
 *   where something would go, and passes them as `indexChildren`.
 */
import type { DigestUse, UsedBy } from '../in-use/index.js';
import type { ImageRecord } from '../queue/index.js';
import { parseReference, repositoryOf } from '../reference/index.js';
import type { SupersededDigest } from './superseded.js';
import type { GcItem } from './types.js';

export interface GcPlanInput {
  records: readonly ImageRecord[];
  /** `usedBy` per record ref (refs never seen by the pod watch are absent). */
  usedBy: ReadonlyMap<string, UsedBy>;
  /** When each digest was last run (digests never seen are absent). */
  digestUses: ReadonlyMap<string, DigestUse>;
  superseded?: readonly SupersededDigest[];
  /**
   * `<mirror repo>@<digest>` -> the child digests of that manifest when it is
   * an index (`[]` when it is not, or is gone); `null`: it could not be read,
   * so nothing of that repository is deleted. Absent keys count as `[]`.
   */
  indexChildren?: ReadonlyMap<string, readonly string[] | null>;
  now: number;
  unusedForMs: number;
  keepUnusedForMs: number;
  /** ms of the first run that found a live pod watch. */
  trackedSince: number;
}

/** One manifest to delete (by digest), and what goes with it. */
export interface GcDeletion {
  repository: string;
  digest: string;
  /** Records to remove once the manifest is gone (admission must never rewrite to a missing image). */
  refs: string[];
  /** It was noted as superseded: forget the note once it is gone. */
  superseded: boolean;
  items: GcItem[];
}

export interface GcPlan {
  /** Every item that goes (a deletion may carry several: tags sharing one digest). */
  remove: GcItem[];
  protected: GcItem[];
  deletions: GcDeletion[];
}

interface Candidate {
  item: GcItem;
  repository: string;
  digest: string;
  /** Record to remove (absent for a superseded digest). */
  ref?: string;
  /** Digests whose use protects it: the mirror digest, and the upstream one when it differs. */
  uses: string[];
}

const time = (s: string | null | undefined): number => (s ? Date.parse(s) : NaN);

export function mirrorRepositoryOf(mirrorRef: string): string | undefined {
  try {
    return repositoryOf(parseReference(mirrorRef));
  } catch {
    return undefined;
  }
}

/**
 * Why a digest must stay because a pod runs it, or ran it after `keepCut`
 * (ms: now - gc.keepUnusedFor), or undefined. The one rule GC and watch
 * retention (`keep`) share. `digests`: one manifest's digests (mirror, and
 * upstream when they differ).
 */
export function digestUseReason(digests: readonly string[], uses: ReadonlyMap<string, DigestUse>, keepCut: number): string | undefined {
  for (const d of digests) {
    const u = uses.get(d);
    if (!u) continue;
    if (u.running > 0) return `digest ${d} runs in ${u.running} pod${u.running === 1 ? '' : 's'}`;
    if (time(u.lastSeenAt) > keepCut) return `digest ${d} ran until ${u.lastSeenAt} (within gc.keepUnusedFor)`;
  }
  return undefined;
}

export function planGc(i: GcPlanInput): GcPlan {
  const unusedCut = i.now - i.unusedForMs;
  const keepCut = i.now - i.keepUnusedForMs;
  const candidates: Candidate[] = [];
  const protectedItems: GcItem[] = [];
  /** repository -> digest -> who keeps it (a sentence), for the digests that stay. */
  const staying = new Map<string, Map<string, string>>();
  const stay = (repo: string, digest: string, who: string) => {
    let m = staying.get(repo);
    if (!m) staying.set(repo, (m = new Map()));
    if (!m.has(digest)) m.set(digest, who);
  };

  for (const r of i.records) {
    const repo = mirrorRepositoryOf(r.mirrorRef);
    if (!repo || !r.digest) continue; // nothing in the mirror this plan could delete
    const unusedSince = unusedSinceOf(i.usedBy.get(r.ref));
    const baseline = unusedSince !== null ? time(unusedSince) : Math.max(time(r.mirroredAt ?? r.updatedAt), i.trackedSince);
    const inUse = (i.usedBy.get(r.ref)?.pods ?? 0) > 0;
    if (r.state !== 'mirrored' || r.source === 'watch' || inUse || !(baseline <= unusedCut)) {
      stay(repo, r.digest, `${r.ref}, which stays`);
      continue;
    }
    const item: GcItem = { ref: r.ref, mirrorRef: r.mirrorRef, digest: r.digest, unusedSince, kind: 'record' };
    if (r.source === 'import') {
      protectedItems.push({ ...item, reason: 'imported from a tarball: ferry has no upstream to copy it from again (remove it through the API)' });
      stay(repo, r.digest, `${r.ref} (imported)`);
      continue;
    }
    const uses = r.sourceDigest && r.sourceDigest !== r.digest ? [r.digest, r.sourceDigest] : [r.digest];
    candidates.push({ item, repository: repo, digest: r.digest, ref: r.ref, uses });
  }

  for (const s of i.superseded ?? []) {
    if (!(Math.max(time(s.supersededAt), i.trackedSince) <= keepCut)) {
      stay(s.repository, s.digest, `a digest superseded only at ${s.supersededAt}`);
      continue;
    }
    const seen = i.digestUses.get(s.digest);
    const item: GcItem = {
      ref: s.ref,
      mirrorRef: `${s.repository}@${s.digest}`,
      digest: s.digest,
      unusedSince: seen && seen.running === 0 ? seen.lastSeenAt : null,
      kind: 'superseded',
    };
    candidates.push({ item, repository: s.repository, digest: s.digest, uses: [s.digest] });
  }

  // A pod runs it, or ran it within keepUnusedFor: it stays, and so does its digest for every other tag on it.
  const left: Candidate[] = [];
  for (const c of candidates) {
    const why = digestUseReason(c.uses, i.digestUses, keepCut);
    if (why) {
      protectedItems.push({ ...c.item, reason: why });
      stay(c.repository, c.digest, `${c.item.ref}, whose ${why}`);
    } else left.push(c);
  }

  // The children of every index that stays stay too (and theirs: an index of indexes).
  const unreadable = new Set<string>();
  for (const [repo, digests] of staying) {
    const todo = [...digests.keys()];
    while (todo.length) {
      const d = todo.pop()!;
      const children = i.indexChildren?.get(`${repo}@${d}`);
      if (children === null) unreadable.add(repo);
      for (const c of children ?? []) {
        if (digests.has(c)) continue;
        digests.set(c, `a manifest of index ${d}, which stays`);
        todo.push(c);
      }
    }
  }

  const byDeletion = new Map<string, GcDeletion>();
  for (const c of left) {
    const who = staying.get(c.repository)?.get(c.digest);
    if (who) {
      protectedItems.push({ ...c.item, reason: `the same manifest is ${who} (a delete by digest drops every tag on it)` });
      continue;
    }
    if (unreadable.has(c.repository)) {
      protectedItems.push({ ...c.item, reason: `an index in ${c.repository} could not be read, so which manifests it needs is unknown` });
      continue;
    }
    const key = `${c.repository}@${c.digest}`;
    let del = byDeletion.get(key);
    if (!del) byDeletion.set(key, (del = { repository: c.repository, digest: c.digest, refs: [], superseded: false, items: [] }));
    if (c.ref) del.refs.push(c.ref);
    else del.superseded = true;
    del.items.push(c.item);
  }
  const deletions = [...byDeletion.values()];
  const byRef = (a: GcItem, b: GcItem) => cmp(a.ref, b.ref) || cmp(a.kind ?? '', b.kind ?? '') || cmp(a.digest ?? '', b.digest ?? '');
  return { remove: deletions.flatMap((d) => d.items).sort(byRef), protected: protectedItems.sort(byRef), deletions };
}

/** When a pod last named the ref; null = never seen (or named now: then it is no candidate anyway). */
function unusedSinceOf(u: UsedBy | undefined): string | null {
  if (!u || u.pods > 0 || !u.lastSeenAt) return null;
  return u.lastSeenAt;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * What the mirror held for each tag of a watch, and since when: the audit
 * behind `GET /api/watches/:id/history` and what retention counts. Read from
 * the image records of the refs the watch enqueued (the digest of each one's
 * last successful copy), so it follows copies whoever ran them.
 */
import type { ImageRecord, ImageStore } from '../queue/index.js';
import type { ResolvedWatch } from './definition.js';
import type { HeldEntry, RefEntry, WatchState } from './state.js';

export interface Holdings {
  /** Refs the watch enqueued. */
  refs: Map<string, RefEntry>;
  /** Their image records, for the refs that still have one. */
  records: Map<string, ImageRecord>;
  /** Every holding of the watch, deleted ones included. */
  held: HeldEntry[];
}

/**
 * Records what the mirror holds now for each ref the watch enqueued. New
 * holdings get increasing sequence numbers in the order the copies landed;
 * those seen again get `lastSeenAt`.
 */
export async function reconcileHoldings(state: WatchState, store: ImageStore, w: ResolvedWatch): Promise<Holdings> {
  const refs = await state.refs(w.id);
  const list = [...refs.keys()];
  const recs = await store.getMany(list);
  const records = new Map<string, ImageRecord>();
  list.forEach((ref, i) => recs[i] && records.set(ref, recs[i]!));
  const held = await state.held(w.id);
  const byKey = new Map(held.map((e) => [`${e.tag}@${e.digest}`, e]));
  const now = new Date().toISOString();
  const fresh: ImageRecord[] = [];
  const seen: HeldEntry[] = [];
  for (const [ref, r] of records) {
    if (!r.digest || !r.mirroredAt) continue;
    const e = byKey.get(`${refs.get(ref)!.tag}@${r.digest}`);
    if (!e || e.deletedAt) fresh.push(r);
    else seen.push({ ...e, lastSeenAt: now });
  }
  fresh.sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : a.updatedAt > b.updatedAt ? 1 : 0));
  for (const r of fresh) {
    const e: HeldEntry = { tag: refs.get(r.ref)!.tag, ref: r.ref, digest: r.digest!, seq: await state.nextSeq(w.id), heldSince: now, lastSeenAt: now, deletedAt: null };
    byKey.set(`${e.tag}@${e.digest}`, e);
    seen.push(e);
  }
  await state.setHeld(w.id, seen);
  return { refs, records, held: [...byKey.values()] };
}

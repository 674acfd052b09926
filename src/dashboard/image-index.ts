import { IMAGE_STATES, type ImageEvent, type ImageRecord, type ImageState } from '../queue/index.js';

export type SortKey = 'updatedAt' | 'ref' | 'state';
export type SortOrder = 'asc' | 'desc';
export const SORT_KEYS: readonly SortKey[] = ['updatedAt', 'ref', 'state'];

/** `?sort=state` orders by what needs attention first (ascending), then by ref. */
export const STATE_RANK: Record<ImageState, number> = { error: 0, retrying: 1, copying: 2, queued: 3, blocked: 4, mirrored: 5 };

export interface ListQuery {
  states?: ImageState[] | undefined;
  /** Whitespace-separated terms, each must appear (case-insensitive) in ref, mirrorRef, digest or lastError. */
  q?: string | undefined;
  sort: SortKey;
  order: SortOrder;
  limit: number;
  offset: number;
  /** Opaque position from a previous page's `nextCursor` (wins over offset). */
  cursor?: string | undefined;
}

export interface ListPage {
  items: ImageRecord[];
  /** Records matching the filters. */
  total: number;
  offset: number;
  limit: number;
  nextOffset: number | null;
  nextCursor: string | null;
}

type Key = [number | string, string];

function keyOf(r: ImageRecord, sort: SortKey): Key {
  if (sort === 'ref') return ['', r.ref];
  if (sort === 'state') return [STATE_RANK[r.state] ?? 9, r.ref];
  return [r.updatedAt, r.ref];
}

function cmpKey(a: Key, b: Key): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

export function encodeCursor(k: Key): string {
  return Buffer.from(JSON.stringify(k)).toString('base64url');
}

export function decodeCursor(s: string): Key | undefined {
  try {
    const k = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(k) && k.length === 2 && (typeof k[0] === 'string' || typeof k[0] === 'number') && typeof k[1] === 'string') {
      return [k[0], k[1]];
    }
  } catch {
    /* fall through */
  }
  return undefined;
}

/**
 * Every image record in memory, kept current from the events channel, so a
 * page of `GET /api/images` never walks Redis: filter + slice over a sorted
 * array that is rebuilt only after a state change (progress ticks mutate the
 * records in place and never reorder them).
 *
 * Loading races with live events: events that arrive while the snapshot is
 * read are buffered and replayed on top of it, a state event only when it is
 * not older than what the snapshot holds.
 */
export class ImageIndex {
  private readonly map = new Map<string, ImageRecord>();
  private readonly stateCounts = new Map<ImageState, number>();
  private buffered: ImageEvent[] | undefined;
  private version = 0;
  private readonly sorted = new Map<string, { version: number; list: ImageRecord[] }>();
  private loadedOnce = false;
  /** Lower-cased search text per record object (records are replaced, never edited, on state changes). */
  private readonly hay = new WeakMap<ImageRecord, string>();

  get size(): number {
    return this.map.size;
  }

  /** Loaded at least once (a reload in progress keeps serving the previous contents). */
  get loaded(): boolean {
    return this.loadedOnce;
  }

  get(ref: string): ImageRecord | undefined {
    return this.map.get(ref);
  }

  /** Start buffering events: call before reading the snapshot. */
  beginLoad(): void {
    this.buffered = [];
  }

  /** Replace the contents with `records`, then replay what arrived meanwhile. */
  finishLoad(records: ImageRecord[]): void {
    const pending = this.buffered ?? [];
    this.buffered = undefined;
    this.map.clear();
    this.stateCounts.clear();
    for (const r of records) this.put(r);
    this.version++;
    this.loadedOnce = true;
    for (const ev of pending) {
      const prev = this.map.get(ev.ref);
      if (ev.type === 'state' && prev && ev.record.updatedAt < prev.updatedAt) continue;
      this.apply(ev);
    }
  }

  /** Give up a load (Redis error): keep serving what we had and apply events directly again. */
  abortLoad(): void {
    const pending = this.buffered ?? [];
    this.buffered = undefined;
    for (const ev of pending) this.apply(ev);
  }

  /** Applies one event; returns the record as it was before. While loading, events are buffered (and `undefined` returned). */
  apply(ev: ImageEvent): ImageRecord | undefined {
    if (this.buffered) {
      this.buffered.push(ev);
      return undefined;
    }
    const prev = this.map.get(ev.ref);
    if (ev.type === 'state') {
      this.put(ev.record);
      this.version++;
    } else if (ev.type === 'removed') {
      if (prev) {
        this.map.delete(ev.ref);
        this.bump(prev.state, -1);
        this.version++;
      }
    } else if (prev) {
      // progress: in place, no reordering (the store does not touch updatedAt either)
      prev.bytesDone = ev.bytesDone;
      prev.bytesTotal = ev.bytesTotal;
    }
    return prev;
  }

  private bump(state: ImageState, by: number): void {
    this.stateCounts.set(state, (this.stateCounts.get(state) ?? 0) + by);
  }

  private put(r: ImageRecord): void {
    const prev = this.map.get(r.ref);
    if (prev) this.bump(prev.state, -1);
    this.map.set(r.ref, r);
    this.bump(r.state, 1);
  }

  /** Records per state (kept incrementally). */
  counts(): Record<ImageState, number> {
    const out = Object.fromEntries(IMAGE_STATES.map((s) => [s, 0])) as Record<ImageState, number>;
    for (const [s, n] of this.stateCounts) out[s] = n;
    return out;
  }

  private sortedList(sort: SortKey, order: SortOrder): ImageRecord[] {
    const cacheKey = `${sort}:${order}`;
    const hit = this.sorted.get(cacheKey);
    if (hit && hit.version === this.version) return hit.list;
    const dir = order === 'asc' ? 1 : -1;
    const decorated = [...this.map.values()].map((r) => ({ r, k: keyOf(r, sort) }));
    decorated.sort((a, b) => dir * cmpKey(a.k, b.k));
    const list = decorated.map((d) => d.r);
    this.sorted.set(cacheKey, { version: this.version, list });
    return list;
  }

  list(q: ListQuery): ListPage {
    const list = this.sortedList(q.sort, q.order);
    const states = q.states && q.states.length ? new Set(q.states) : undefined;
    const terms = (q.q ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    const match = (r: ImageRecord): boolean => {
      if (states && !states.has(r.state)) return false;
      if (terms.length === 0) return true;
      let hay = this.hay.get(r);
      if (hay === undefined) {
        hay = `${r.ref}\n${r.mirrorRef}\n${r.digest ?? ''}\n${r.lastError ?? ''}\n${r.blockedReason ?? ''}`.toLowerCase();
        this.hay.set(r, hay);
      }
      return terms.every((t) => hay.includes(t));
    };
    const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
    const dir = q.order === 'asc' ? 1 : -1;
    const items: ImageRecord[] = [];
    let total = 0;
    let offset = q.offset;
    let skipped = 0;
    for (const r of list) {
      if (!match(r)) continue;
      total++;
      if (cursor) {
        if (dir * cmpKey(keyOf(r, q.sort), cursor) <= 0) {
          skipped++;
          continue;
        }
      } else if (skipped < q.offset) {
        skipped++;
        continue;
      }
      if (items.length < q.limit) items.push(r);
    }
    if (cursor) offset = skipped;
    const end = offset + items.length;
    const last = items[items.length - 1];
    return {
      items,
      total,
      offset,
      limit: q.limit,
      nextOffset: end < total ? end : null,
      nextCursor: end < total && last ? encodeCursor(keyOf(last, q.sort)) : null,
    };
  }
}

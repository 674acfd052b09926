import { IMAGE_STATES, type ImageEvent, type ImageRecord, type ImageState, type RecordFeed } from '../queue/index.js';

export type SortKey = 'updatedAt' | 'ref' | 'state';
export type SortOrder = 'asc' | 'desc';
export const SORT_KEYS: readonly SortKey[] = ['updatedAt', 'ref', 'state'];
export const DEFAULT_SORT: SortKey = 'updatedAt';
/** The order a sort has when none is asked for: newest first for time, else A to Z / most urgent first. */
export const DEFAULT_ORDER: Readonly<Record<SortKey, SortOrder>> = { updatedAt: 'desc', ref: 'asc', state: 'asc' };

/** `?sort=state` orders by what needs attention first (ascending), then by ref. */
export const STATE_RANK: Record<ImageState, number> = { error: 0, retrying: 1, copying: 2, queued: 3, blocked: 4, mirrored: 5 };

export interface ListQuery {
  states?: ImageState[] | undefined;
  /** Whitespace-separated terms, each must appear (case-insensitive) in ref, mirrorRef, digest, sourceDigest (a filtered index's upstream digest) or lastError. */
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

/** Index of `k` in `list` (sorted by `sort`, `dir`), or where it would go: binary search. */
function positionOf(list: readonly ImageRecord[], k: Key, sort: SortKey, dir: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (dir * cmpKey(keyOf(list[mid]!, sort), k) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The dashboard's reading of the process's RecordFeed: counts per state kept
 * incrementally, and `GET /api/images` pages as filter + slice over sorted
 * arrays, one per sort asked for. Each is built once (after a load) and then
 * kept in order change by change: a state change moves one record (binary
 * search + splice), where re-sorting 100,000 records after every change
 * made a busy dashboard's first page take 30-400 ms (bench/records).
 * Progress ticks mutate the records in place and never reorder them.
 * Nothing here walks Redis.
 */
export class ImageIndex {
  private readonly stateCounts = new Map<ImageState, number>();
  private readonly sorted = new Map<string, { sort: SortKey; dir: number; list: ImageRecord[] }>();
  /** Lower-cased search text per record object (records are replaced, never edited, on state changes). */
  private readonly hay = new WeakMap<ImageRecord, string>();

  private readonly onEvent = (ev: ImageEvent, prev: ImageRecord | undefined): void => {
    if (ev.type === 'progress') return;
    if (prev) this.bump(prev.state, -1);
    if (ev.type === 'state') this.bump(ev.record.state, 1);
    for (const s of this.sorted.values()) {
      if (prev) {
        const at = positionOf(s.list, keyOf(prev, s.sort), s.sort, s.dir);
        if (s.list[at] === prev) s.list.splice(at, 1);
        else {
          // not where its key says (cannot happen while keys are what they were when it was placed): rebuild on next use
          this.sorted.clear();
          return;
        }
      }
      if (ev.type === 'state') s.list.splice(positionOf(s.list, keyOf(ev.record, s.sort), s.sort, s.dir), 0, ev.record);
    }
  };

  private readonly recount = (): void => {
    this.stateCounts.clear();
    for (const r of this.feed.values()) this.bump(r.state, 1);
    this.sorted.clear();
  };

  constructor(private readonly feed: RecordFeed) {
    this.recount();
    feed.on('event', this.onEvent);
    feed.on('reloaded', this.recount);
  }

  /** Stops following the feed (which outlives the dashboard). */
  close(): void {
    this.feed.off('event', this.onEvent);
    this.feed.off('reloaded', this.recount);
  }

  get size(): number {
    return this.feed.size;
  }

  /** Loaded at least once (a reload in progress keeps serving the previous contents). */
  get loaded(): boolean {
    return this.feed.loaded;
  }

  get(ref: string): ImageRecord | undefined {
    return this.feed.get(ref);
  }

  private bump(state: ImageState, by: number): void {
    this.stateCounts.set(state, (this.stateCounts.get(state) ?? 0) + by);
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
    if (hit) return hit.list;
    const dir = order === 'asc' ? 1 : -1;
    const decorated = [...this.feed.values()].map((r) => ({ r, k: keyOf(r, sort) }));
    decorated.sort((a, b) => dir * cmpKey(a.k, b.k));
    const list = decorated.map((d) => d.r);
    this.sorted.set(cacheKey, { sort, dir, list });
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
        hay = `${r.ref}\n${r.mirrorRef}\n${r.digest ?? ''}\n${r.sourceDigest ?? ''}\n${r.lastError ?? ''}\n${r.blockedReason ?? ''}`.toLowerCase();
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

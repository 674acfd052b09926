/**
 * What `GET /api/images` accepts, parsed one query parameter at a time (the
 * route decides the order, so a bad parameter is reported before or after
 * the index is loaded as it always was), and the same lists served as
 * `GET /api/meta` so the page never keeps a copy of them.
 */
import { IMAGE_STATES, type ImageState } from '../queue/index.js';
import { badRequest } from './errors.js';
import { DEFAULT_ORDER, DEFAULT_SORT, SORT_KEYS, type SortKey, type SortOrder } from './image-index.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** `GET /api/meta`: the states, sorts and limits the list takes. */
export interface ApiMeta {
  states: readonly ImageState[];
  sorts: readonly SortKey[];
  defaultSort: SortKey;
  defaultOrder: Readonly<Record<SortKey, SortOrder>>;
  limit: { default: number; max: number };
}

export const API_META: ApiMeta = {
  states: IMAGE_STATES,
  sorts: SORT_KEYS,
  defaultSort: DEFAULT_SORT,
  defaultOrder: DEFAULT_ORDER,
  limit: { default: DEFAULT_LIMIT, max: MAX_LIMIT },
};

/** A query value as one string: the last one when repeated. */
export function one(v: unknown): string | undefined {
  if (Array.isArray(v)) return v.length ? String(v[v.length - 1]) : undefined;
  return v === undefined ? undefined : String(v);
}

export function intParam(v: unknown, name: string, def: number, min: number, max: number): number {
  const s = one(v);
  if (s === undefined || s === '') return def;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw badRequest(`?${name}=${s} is not an integer between ${min} and ${max}`, `e.g. ?${name}=${def}`);
  }
  return n;
}

/** `?state=a,b` or `?state=a&state=b`; undefined for no filter. */
export function statesParam(v: unknown): ImageState[] | undefined {
  if (v === undefined) return undefined;
  const raw = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter(Boolean);
  for (const s of raw) {
    if (!(IMAGE_STATES as readonly string[]).includes(s)) {
      throw badRequest(`unknown state "${s}"`, `use one or more of ${IMAGE_STATES.join(', ')} (comma-separated or repeated)`);
    }
  }
  return raw.length ? (raw as ImageState[]) : undefined;
}

export function sortParam(v: unknown): SortKey {
  const sort = one(v) ?? DEFAULT_SORT;
  if (!(SORT_KEYS as readonly string[]).includes(sort)) throw badRequest(`unknown sort "${sort}"`, `use ${SORT_KEYS.join(', ')}`);
  return sort as SortKey;
}

export function orderParam(v: unknown, sort: SortKey): SortOrder {
  const order = one(v) ?? DEFAULT_ORDER[sort];
  if (order !== 'asc' && order !== 'desc') throw badRequest(`unknown order "${order}"`, 'use asc or desc');
  return order;
}

/** A `nextCursor` handed back unchanged; undefined when absent or empty. */
export function cursorParam(v: unknown): string | undefined {
  const cursor = one(v);
  if (cursor !== undefined && cursor !== '' && !/^[A-Za-z0-9_-]+$/.test(cursor)) throw badRequest('malformed ?cursor', 'pass nextCursor from the previous page unchanged');
  return cursor || undefined;
}

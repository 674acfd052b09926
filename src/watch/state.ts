/**
 * Watch state in Redis (shared by every `ferry watch` replica): API-defined
 * watches, status, change events, mirror holdings, refs enqueued, registry
 * answer cache. Writes of one watch happen under its lock (lock.ts), so the
 * read-modify-write of a status never races.
 */
import type { Redis } from 'ioredis';
import type { WatchConfig } from '../config/index.js';
import { watchKeys } from './keys.js';
import type { ChangeKind } from './strategy/index.js';

export type PollResult = Exclude<ChangeKind, 'unchanged'> | 'unchanged' | 'no-match' | 'error';

export interface RetentionStatus {
  keep: number;
  lastRunAt: string;
  /** Manifests deleted from the mirror by this watch, all time. */
  deletedTotal: number;
  /** The mirror answered that deletes are disabled (storage.delete.enabled: false). */
  deleteDisabled: boolean;
  lastError: string | null;
  /** Digests past `keep` that stay because an image record still uses them, or a pod runs (or recently ran) them. */
  protected: string[];
  /** Set when the last pass deleted nothing on purpose, and why (e.g. the pod watch is not live: ferry cannot tell what runs). */
  skipped?: string | null;
}

/** Where the watch's `alias` tag points in the mirror (alias.ts). */
export interface AliasStatus {
  /** The alias tag name in the watched image's mirror repository. */
  tag: string;
  /** The mirror manifest digest the alias tag points at; null until it was first set. */
  digest: string | null;
  movedAt: string | null;
  /** Last time a HEAD of the mirror confirmed the tag (or a PUT set it). */
  verifiedAt: string | null;
  /** The selected upstream digest the alias waits for (its copy has not completed yet); null when none. */
  waitingFor: string | null;
  /** Why the alias was not moved (conflict with an upstream tag, a failed PUT); null when fine. */
  error: { code: string; message: string } | null;
}

export interface WatchStatus {
  lastPollAt: string | null;
  lastResult: PollResult | null;
  /** Why the strategy chose what it chose (or nothing). */
  reason: string | null;
  selected: { tag: string; digest: string; since: string } | null;
  error: { code: string; message: string } | null;
  consecutiveErrors: number;
  lastChangeAt: string | null;
  polls: number;
  retention: RetentionStatus | null;
  /** Only for watches with `alias`. */
  alias?: AliasStatus | null;
}

export const EMPTY_STATUS: WatchStatus = {
  lastPollAt: null,
  lastResult: null,
  reason: null,
  selected: null,
  error: null,
  consecutiveErrors: 0,
  lastChangeAt: null,
  polls: 0,
  retention: null,
};

export interface ChangeEvent {
  at: string;
  kind: Exclude<ChangeKind, 'unchanged'>;
  tag: string;
  previousTag: string | null;
  oldDigest: string | null;
  newDigest: string;
  ref: string;
  mirrorRef: string;
  /** What started the poll: schedule, hook, api, start. */
  trigger: string;
}

export interface HeldEntry {
  tag: string;
  ref: string;
  /** Manifest digest in the mirror. */
  digest: string;
  /** Order in which the watch saw the mirror hold it (retention keeps the highest). */
  seq: number;
  heldSince: string;
  lastSeenAt: string;
  deletedAt: string | null;
}

export interface RefEntry {
  tag: string;
  /** The watch created the image record (no one else asked for this ref first). */
  owned: boolean;
  firstEnqueuedAt: string;
  lastEnqueuedAt: string;
}

export const MAX_EVENTS = 500;

function parse<T>(s: string | null | undefined): T | undefined {
  if (!s) return undefined;
  try {
    return JSON.parse(s) as T;
  } catch {
    return undefined;
  }
}

function parseHash<T>(h: Record<string, string>): Map<string, T> {
  const out = new Map<string, T>();
  for (const [k, v] of Object.entries(h)) {
    const x = parse<T>(v);
    if (x !== undefined) out.set(k, x);
  }
  return out;
}

export class WatchState {
  readonly k: ReturnType<typeof watchKeys>;

  constructor(
    readonly redis: Redis,
    prefix: string,
  ) {
    this.k = watchKeys(prefix);
  }

  // API-defined watches
  async apiWatches(): Promise<WatchConfig[]> {
    return [...parseHash<WatchConfig>(await this.redis.hgetall(this.k.defs)).values()];
  }
  async putApiWatch(w: WatchConfig & { id: string }): Promise<boolean> {
    return (await this.redis.hset(this.k.defs, w.id, JSON.stringify(w))) === 1;
  }
  async deleteApiWatch(id: string): Promise<boolean> {
    return (await this.redis.hdel(this.k.defs, id)) === 1;
  }

  // status
  async status(id: string): Promise<WatchStatus> {
    return { ...EMPTY_STATUS, ...parse<Partial<WatchStatus>>(await this.redis.hget(this.k.status, id)) };
  }
  async allStatuses(): Promise<Map<string, WatchStatus>> {
    const m = parseHash<Partial<WatchStatus>>(await this.redis.hgetall(this.k.status));
    return new Map([...m].map(([id, s]) => [id, { ...EMPTY_STATUS, ...s }]));
  }
  async setStatus(id: string, s: WatchStatus): Promise<void> {
    await this.redis.hset(this.k.status, id, JSON.stringify(s));
  }

  // change events
  async addEvent(id: string, e: ChangeEvent): Promise<void> {
    await this.redis.multi().lpush(this.k.events(id), JSON.stringify(e)).ltrim(this.k.events(id), 0, MAX_EVENTS - 1).exec();
  }
  async events(id: string, limit = MAX_EVENTS): Promise<ChangeEvent[]> {
    const raw = await this.redis.lrange(this.k.events(id), 0, limit - 1);
    return raw.map((s) => parse<ChangeEvent>(s)).filter((e): e is ChangeEvent => e !== undefined);
  }

  // refs the watch enqueued
  async refs(id: string): Promise<Map<string, RefEntry>> {
    return parseHash<RefEntry>(await this.redis.hgetall(this.k.refs(id)));
  }
  async setRef(id: string, ref: string, e: RefEntry): Promise<void> {
    await this.redis.hset(this.k.refs(id), ref, JSON.stringify(e));
  }
  async dropRefs(id: string, refs: string[]): Promise<void> {
    if (refs.length) await this.redis.hdel(this.k.refs(id), ...refs);
  }

  // mirror holdings
  async held(id: string): Promise<HeldEntry[]> {
    return [...parseHash<HeldEntry>(await this.redis.hgetall(this.k.held(id))).values()];
  }
  async setHeld(id: string, entries: HeldEntry[]): Promise<void> {
    if (!entries.length) return;
    await this.redis.hset(this.k.held(id), ...entries.flatMap((e) => [`${e.tag}@${e.digest}`, JSON.stringify(e)]));
  }
  async nextSeq(id: string): Promise<number> {
    return this.redis.incr(this.k.seq(id));
  }

  // registry answer cache
  async cacheGet<T>(id: string, fields: string[]): Promise<(T | undefined)[]> {
    if (!fields.length) return [];
    const raw = await this.redis.hmget(this.k.cache(id), ...fields);
    return raw.map((s) => parse<T>(s));
  }
  async cacheSet(id: string, entries: [string, unknown][]): Promise<void> {
    if (entries.length) await this.redis.hset(this.k.cache(id), ...entries.flatMap(([f, v]) => [f, JSON.stringify(v)]));
  }
  /** Drops cached answers whose field is not in `keep`. */
  async cachePrune(id: string, keep: Set<string>): Promise<void> {
    const fields = await this.redis.hkeys(this.k.cache(id));
    const gone = fields.filter((f) => !keep.has(f));
    if (gone.length) await this.redis.hdel(this.k.cache(id), ...gone);
  }

  async publish(message: unknown): Promise<void> {
    await this.redis.publish(this.k.channel, JSON.stringify(message));
  }

  /** Forget a removed watch's status and cache; events and holdings stay for audit. */
  async forget(id: string): Promise<void> {
    await this.redis.multi().hdel(this.k.status, id).del(this.k.cache(id)).exec();
  }
}

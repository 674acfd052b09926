import type { Redis } from 'ioredis';
import { decodeRecord, encodeFields, IMAGE_STATES, type ImageEvent, type ImageRecord, type ImageSource, type ImageState } from './record.js';
import { keys } from './keys.js';

/*
 * Scripts keep the record hash, the per-state sets, the updatedAt index and
 * the event in one atomic step, so counts never drift from records and every
 * change is published exactly once.
 */
const UPDATE = `
local old = redis.call('HGET', KEYS[1], 'state')
if not old and ARGV[5] == '1' then return nil end
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1]) end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[3])
local new = redis.call('HGET', KEYS[1], 'state')
if old ~= new then
  if old then redis.call('SREM', ARGV[1] .. old, ARGV[2]) end
  redis.call('SADD', ARGV[1] .. new, ARGV[2])
end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
local flat = redis.call('HGETALL', KEYS[1])
local rec = {}
for i = 1, #flat, 2 do rec[flat[i]] = flat[i+1] end
redis.call('PUBLISH', KEYS[3], cjson.encode({type = 'state', ref = ARGV[2], raw = rec}))
return flat
`;

/* Creates a queued record unless one exists (or force). Returns the state now in force and whether it was (re)created. */
const ENQUEUE = `
local old = redis.call('HGET', KEYS[1], 'state')
if old and ARGV[5] ~= '1' then return {old, 0} end
if old == 'blocked' then return {old, 0} end
if old then redis.call('SREM', ARGV[1] .. old, ARGV[2]) end
if not old then redis.call('HSET', KEYS[1], 'createdAt', ARGV[3], 'digest', '', 'mirroredAt', '', 'blockedReason', '') end
redis.call('HSET', KEYS[1], 'ref', ARGV[2], 'state', 'queued', 'mirrorRef', ARGV[6], 'attempts', '0',
  'maxAttempts', ARGV[7], 'lastError', '', 'nextAttemptAt', '', 'bytesDone', '0', 'bytesTotal', '0',
  'updatedAt', ARGV[3], 'source', ARGV[8])
redis.call('SADD', ARGV[1] .. 'queued', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
local flat = redis.call('HGETALL', KEYS[1])
local rec = {}
for i = 1, #flat, 2 do rec[flat[i]] = flat[i+1] end
redis.call('PUBLISH', KEYS[3], cjson.encode({type = 'state', ref = ARGV[2], raw = rec}))
return {'queued', 1}
`;

const REMOVE = `
local old = redis.call('HGET', KEYS[1], 'state')
if not old then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[1] .. old, ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('PUBLISH', KEYS[3], cjson.encode({type = 'removed', ref = ARGV[2]}))
return 1
`;

/*
 * Adds a namespace to `grantedNamespaces` (kept sorted and unique) in one
 * step: a copy and a verification may grant the same image at once, and a
 * read-modify-write from either would lose the other's namespace.
 */
const GRANT = `
if not redis.call('HGET', KEYS[1], 'state') then return -1 end
local cur = redis.call('HGET', KEYS[1], 'grantedNamespaces') or ''
local seen, list = {}, {}
for ns in string.gmatch(cur, '[^,]+') do
  if not seen[ns] then seen[ns] = true; table.insert(list, ns) end
end
if seen[ARGV[5]] then return 0 end
table.insert(list, ARGV[5])
table.sort(list)
redis.call('HSET', KEYS[1], 'grantedNamespaces', table.concat(list, ','), 'updatedAt', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
local flat = redis.call('HGETALL', KEYS[1])
local rec = {}
for i = 1, #flat, 2 do rec[flat[i]] = flat[i+1] end
redis.call('PUBLISH', KEYS[3], cjson.encode({type = 'state', ref = ARGV[2], raw = rec}))
return 1
`;

type ScriptRedis = Redis & {
  ferryGrant(...args: (string | number)[]): Promise<number>;
  ferryUpdate(...args: (string | number)[]): Promise<string[] | null>;
  ferryEnqueue(...args: (string | number)[]): Promise<[string, number]>;
  ferryRemove(...args: (string | number)[]): Promise<number>;
};

function flatToHash(flat: string[]): Record<string, string> {
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  return h;
}

/** Decodes a message from the events channel (raw hashes become records). */
export function decodeEvent(message: string): ImageEvent | undefined {
  try {
    const m = JSON.parse(message) as { type: string; ref: string; raw?: Record<string, string>; bytesDone?: number; bytesTotal?: number; updatedAt?: string };
    if (m.type === 'state' && m.raw) {
      const record = decodeRecord(m.raw);
      return record ? { type: 'state', ref: m.ref, record } : undefined;
    }
    if (m.type === 'progress') return { type: 'progress', ref: m.ref, bytesDone: m.bytesDone ?? 0, bytesTotal: m.bytesTotal ?? 0, updatedAt: m.updatedAt ?? '' };
    if (m.type === 'removed') return { type: 'removed', ref: m.ref };
  } catch {
    /* a foreign message on our channel is ignored */
  }
  return undefined;
}

export interface EnqueueRecordOptions {
  mirrorRef: string;
  maxAttempts: number;
  source: ImageSource;
  /** Re-queue even if a record exists (retry, watch saw the tag move, config changed). Never unblocks. */
  force?: boolean;
}

/** Image records in Redis. All writes go through here so sets, index and events stay consistent. */
export class ImageStore {
  readonly redis: ScriptRedis;
  readonly k: ReturnType<typeof keys>;
  private readonly now: () => number;

  constructor(redis: Redis, prefix: string, now: () => number = Date.now) {
    this.k = keys(prefix);
    this.now = now;
    const r = redis as ScriptRedis;
    if (typeof r.ferryUpdate !== 'function') {
      r.defineCommand('ferryUpdate', { numberOfKeys: 3, lua: UPDATE });
      r.defineCommand('ferryEnqueue', { numberOfKeys: 3, lua: ENQUEUE });
      r.defineCommand('ferryRemove', { numberOfKeys: 3, lua: REMOVE });
    }
    if (typeof r.ferryGrant !== 'function') r.defineCommand('ferryGrant', { numberOfKeys: 3, lua: GRANT });
    this.redis = r;
  }

  async get(ref: string): Promise<ImageRecord | undefined> {
    return decodeRecord(await this.redis.hgetall(this.k.image(ref)));
  }

  async getMany(refs: string[]): Promise<(ImageRecord | undefined)[]> {
    if (refs.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const ref of refs) pipe.hgetall(this.k.image(ref));
    const res = (await pipe.exec()) ?? [];
    return res.map(([err, h]) => (err ? undefined : decodeRecord(h as Record<string, string>)));
  }

  /**
   * One page of the records, most recently updated first (the index's order:
   * score = updatedAt in ms, ties by ref descending), and how many there are.
   */
  async newestPage(offset: number, limit: number): Promise<{ total: number; records: ImageRecord[] }> {
    const [total, refs] = await Promise.all([this.redis.zcard(this.k.index), this.redis.zrevrange(this.k.index, offset, offset + limit - 1)]);
    return { total, records: (await this.getMany(refs)).filter((r): r is ImageRecord => r !== undefined) };
  }

  /** Every ref, most recently updated first. */
  async refs(): Promise<string[]> {
    return this.redis.zrevrange(this.k.index, 0, -1);
  }

  /**
   * Refs of one repository (`repo:tag`, `repo@digest`): Redis filters the
   * index server-side (ZSCAN MATCH), so no record outside it is read.
   */
  async refsOfRepository(repository: string): Promise<string[]> {
    const pattern = `${repository.replace(/[\\*?[\]]/g, '\\$&')}[:@]*`;
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.zscan(this.k.index, cursor, 'MATCH', pattern, 'COUNT', 1000);
      for (let i = 0; i < flat.length; i += 2) out.push(flat[i]!);
      cursor = next;
    } while (cursor !== '0');
    return [...new Set(out)]; // ZSCAN may return an element twice
  }

  async listAll(): Promise<ImageRecord[]> {
    const refs = await this.refs();
    const out: ImageRecord[] = [];
    for (let i = 0; i < refs.length; i += 1000) {
      for (const r of await this.getMany(refs.slice(i, i + 1000))) if (r) out.push(r);
    }
    return out;
  }

  async counts(): Promise<Record<ImageState, number>> {
    const pipe = this.redis.pipeline();
    for (const s of IMAGE_STATES) pipe.scard(this.k.state(s));
    const res = (await pipe.exec()) ?? [];
    const out = {} as Record<ImageState, number>;
    IMAGE_STATES.forEach((s, i) => (out[s] = Number(res[i]?.[1] ?? 0)));
    return out;
  }

  private nowArgs(ref: string): (string | number)[] {
    const t = this.now();
    return [this.k.image(ref), this.k.index, this.k.events, this.k.statePrefix, ref, new Date(t).toISOString(), t];
  }

  /** Creates (or with `force` resets) a `queued` record. `created` says whether a job should be added. */
  async enqueue(ref: string, o: EnqueueRecordOptions): Promise<{ state: ImageState; created: boolean }> {
    const [state, created] = await this.redis.ferryEnqueue(
      ...this.nowArgs(ref),
      o.force ? '1' : '0',
      o.mirrorRef,
      o.maxAttempts,
      o.source,
    );
    return { state: state as ImageState, created: created === 1 };
  }

  /** Applies `patch` to an existing record (or creates it when `upsert`), publishes the new record. */
  async update(ref: string, patch: Partial<ImageRecord>, opts: { upsert?: boolean } = {}): Promise<ImageRecord | undefined> {
    const { updatedAt: _ignored, ...rest } = patch;
    const fields = encodeFields(opts.upsert ? { ref, ...rest } : rest);
    const flat = await this.redis.ferryUpdate(...this.nowArgs(ref), opts.upsert ? '0' : '1', ...fields);
    return flat ? decodeRecord(flatToHash(flat)) : undefined;
  }

  /**
   * Adds `namespace` to the image's `grantedNamespaces` (tenant isolation:
   * its own credentials were verified for it). 'added', 'already' granted,
   * or 'missing' (no such record).
   */
  async grant(ref: string, namespace: string): Promise<'added' | 'already' | 'missing'> {
    const n = await this.redis.ferryGrant(...this.nowArgs(ref), namespace);
    return n === 1 ? 'added' : n === 0 ? 'already' : 'missing';
  }

  /** Progress ticks: written to the hash and published, but not indexed (cheap, frequent). */
  async progress(ref: string, bytesDone: number, bytesTotal: number): Promise<void> {
    const updatedAt = new Date(this.now()).toISOString();
    await this.redis
      .multi()
      .hset(this.k.image(ref), 'bytesDone', String(bytesDone), 'bytesTotal', String(bytesTotal))
      .publish(this.k.events, JSON.stringify({ type: 'progress', ref, bytesDone, bytesTotal, updatedAt }))
      .exec();
  }

  async remove(ref: string): Promise<boolean> {
    const removed = (await this.redis.ferryRemove(...this.nowArgs(ref).slice(0, 5))) === 1;
    // Whose pull secret copied it goes with it (Verifications): else one hash field per image ever removed.
    if (removed) await this.redis.hdel(this.k.requesters, ref);
    return removed;
  }
}

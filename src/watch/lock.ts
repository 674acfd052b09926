/**
 * One run per watch at a time, across every replica. A Redis lock per watch
 * (SET NX PX, renewed while held). A request that finds the lock taken is
 * not lost: it leaves a note (`again`: `poll` beats `retain`) that the
 * holder reads atomically when it releases, and then runs once more. Both
 * steps are Lua scripts, so a request either gets the lock or its note is
 * seen by the holder's release.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { backoffDelay, type Backoff } from '../async/index.js';

export type WatchOp = 'poll' | 'retain';
export type LockMode = 'defer' | 'skip' | 'wait';

const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if ARGV[3] ~= '' then
  local cur = redis.call('GET', KEYS[2])
  if ARGV[3] == 'poll' or not cur then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2]) end
end
return 0
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
local again = redis.call('GET', KEYS[2])
if again then redis.call('DEL', KEYS[2]) end
return again
`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

type LockRedis = Redis & {
  ferryWatchAcquire(lock: string, again: string, token: string, ttl: number, note: string): Promise<number>;
  ferryWatchRelease(lock: string, again: string, token: string): Promise<string | null>;
  ferryWatchRenew(lock: string, token: string, ttl: number): Promise<number>;
};

export interface LockKeys {
  lock(id: string): string;
  again(id: string): string;
}

export type RunOutcome<T> = { ran: true; value: T } | { ran: false };

/** Between tries for a lock held elsewhere (`wait`): 25 ms doubling, at most 250 ms, so a released lock is taken soon. */
const RETRY: Backoff = { initialMs: 25, maxMs: 250, jitter: 'none' };

export class WatchLocks {
  private readonly redis: LockRedis;

  constructor(
    redis: Redis,
    private readonly keys: LockKeys,
    private readonly ttlMs = 60_000,
  ) {
    const r = redis as LockRedis;
    if (typeof r.ferryWatchAcquire !== 'function') {
      r.defineCommand('ferryWatchAcquire', { numberOfKeys: 2, lua: ACQUIRE });
      r.defineCommand('ferryWatchRelease', { numberOfKeys: 2, lua: RELEASE });
      r.defineCommand('ferryWatchRenew', { numberOfKeys: 1, lua: RENEW });
    }
    this.redis = r;
  }

  /**
   * Runs `fn(op)` holding the watch's lock, then again for any request that
   * arrived meanwhile. When the lock is held elsewhere: with `defer` the
   * request is noted for the holder; with `skip` it is dropped; with `wait`
   * it retries for up to `waitMs` (an API caller wants the answer), then
   * defers. Returns the first run's value, or `{ran: false}`.
   */
  async run<T>(id: string, op: WatchOp, mode: LockMode, fn: (op: WatchOp, first: boolean) => Promise<T>, waitMs = 15_000): Promise<RunOutcome<T>> {
    const token = randomUUID();
    const lock = this.keys.lock(id);
    const again = this.keys.again(id);
    const deadline = Date.now() + waitMs;
    for (let attempt = 1; ; attempt++) {
      const delay = backoffDelay(attempt, RETRY);
      const last = mode !== 'wait' || Date.now() + delay > deadline;
      const note = !last || mode === 'skip' ? '' : op;
      if ((await this.redis.ferryWatchAcquire(lock, again, token, this.ttlMs, note)) === 1) break;
      if (last) return { ran: false };
      await sleep(delay);
    }
    let first: { value: T } | { error: unknown } | undefined;
    let next: WatchOp | null = op;
    while (next) {
      const renew = setInterval(() => void this.redis.ferryWatchRenew(lock, token, this.ttlMs).catch(() => {}), Math.max(1000, this.ttlMs / 3));
      renew.unref();
      try {
        const value = await fn(next, first === undefined);
        first ??= { value };
      } catch (error) {
        first ??= { error };
      } finally {
        clearInterval(renew);
      }
      next = (await this.redis.ferryWatchRelease(lock, again, token)) as WatchOp | null;
      if (next && (await this.redis.ferryWatchAcquire(lock, again, token, this.ttlMs, next)) !== 1) next = null;
    }
    if (first && 'error' in first) throw first.error;
    return first ? { ran: true, value: first.value } : { ran: false };
  }
}

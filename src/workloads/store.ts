/**
 * The write side of the workload image index: one Redis hash, field
 * `namespace/Kind/name`, value the workload's entry as JSON. A write sets
 * or deletes whole fields, so writing the same view twice (two watch
 * replicas, a retry) changes nothing: idempotent. After a (re)list the
 * watcher replaces a kind's whole slice (`replaceKind`), so a workload
 * deleted while no watch ran goes too. One key, so a Redis Cluster needs
 * no hash tag for the transactions.
 */
import type { Redis } from 'ioredis';
import { workloadKeys, type WorkloadKeys } from './keys.js';
import type { WorkloadEntry, WorkloadKind } from './types.js';

/** One workload's entry now; null once it needs nothing (deleted, scaled to zero, no image). */
export type WorkloadWrite = readonly [key: string, entry: WorkloadEntry | null];

/** The kind segment of `namespace/Kind/name` (names and namespaces have no `/`). */
export function kindOfKey(key: string): string | undefined {
  return key.split('/')[1];
}

export class WorkloadStore {
  readonly keys: WorkloadKeys;

  constructor(
    readonly redis: Redis,
    readonly prefix: string,
    readonly now: () => number = Date.now,
  ) {
    this.keys = workloadKeys(prefix);
  }

  /** Writes each workload's entry (or its removal), in one transaction. */
  async write(writes: readonly WorkloadWrite[]): Promise<void> {
    const set: string[] = [];
    const del: string[] = [];
    for (const [key, entry] of writes) {
      if (entry) set.push(key, JSON.stringify(entry));
      else del.push(key);
    }
    if (set.length === 0 && del.length === 0) return;
    const tx = this.redis.multi();
    if (del.length > 0) tx.hdel(this.keys.byWorkload, ...del);
    if (set.length > 0) tx.hset(this.keys.byWorkload, ...set);
    await execOrThrow(tx);
  }

  /**
   * Makes the index's `kind` slice exactly `view()` (every workload of that
   * kind now, by key): fields of that kind not in it are deleted, the rest
   * written. `view` is asked once the index's fields are read, so a live
   * view (the watcher's) keeps a workload that arrived meanwhile. Returns
   * how many were deleted.
   */
  async replaceKind(kind: WorkloadKind, view: () => ReadonlyMap<string, WorkloadEntry>): Promise<number> {
    const held = await this.redis.hkeys(this.keys.byWorkload);
    const now = view();
    const stale = held.filter((k) => kindOfKey(k) === kind && !now.has(k));
    await this.write([...stale.map((k): WorkloadWrite => [k, null]), ...now]);
    return stale.length;
  }

  /** Says a watcher's whole view is in the index now. */
  async markSynced(): Promise<void> {
    await this.redis.set(this.keys.syncedAt, String(this.now()));
  }

  /** False once Redis lost the index (restarted without its data): the watcher then writes its view again. */
  async holdsSync(): Promise<boolean> {
    return (await this.redis.exists(this.keys.syncedAt)) === 1;
  }
}

async function execOrThrow(tx: ReturnType<Redis['multi']>): Promise<void> {
  const res = await tx.exec();
  if (!res) throw new Error('workload index write aborted');
  for (const [err] of res) if (err) throw err;
}

/**
 * The in-use index in Redis (shared by replicas). SKELETON: signatures are
 * the contract other parts code against; the implementation is being written.
 */
import type { Redis } from 'ioredis';
import type { DigestUse, PodImage, PodRun, UsedBy } from './types.js';

export class InUseStore {
  constructor(
    readonly redis: Redis,
    readonly prefix: string,
    readonly now: () => number = Date.now,
  ) {}

  /** Replaces what the index holds for one pod (`namespace/name`); an empty list removes it. */
  async setPod(_namespace: string, _pod: string, _images: PodImage[]): Promise<void> {
    throw new Error('not implemented');
  }

  async removePod(_namespace: string, _pod: string): Promise<void> {
    throw new Error('not implemented');
  }

  /** After an initial list or a relist: every pod the index holds that is not in `present` (`namespace/name`) is removed. Returns how many. */
  async reconcile(_present: ReadonlySet<string>): Promise<number> {
    throw new Error('not implemented');
  }

  /** Pods running `ref` now (normalized upstream reference), sorted by namespace, pod, container. */
  async podsOf(_ref: string): Promise<PodRun[]> {
    throw new Error('not implemented');
  }

  /** `usedBy` of each ref (refs never seen are absent). */
  async usedBy(_refs: readonly string[]): Promise<Map<string, UsedBy>> {
    throw new Error('not implemented');
  }

  /** When each mirror digest was last run (digests never seen are absent). */
  async digestUses(_digests: readonly string[]): Promise<Map<string, DigestUse>> {
    throw new Error('not implemented');
  }

  /** Refs some pod names now. */
  async inUseRefs(): Promise<string[]> {
    throw new Error('not implemented');
  }

  /** Called by a tracker after its initial list and periodically while its watch is healthy. */
  async heartbeat(_ttlMs: number): Promise<void> {
    throw new Error('not implemented');
  }

  /** Whether some tracker (any replica) has a synced, healthy pod watch now; GC and retention's protection trust the index only then. */
  async live(): Promise<{ live: boolean; syncedAt: string | null }> {
    throw new Error('not implemented');
  }
}

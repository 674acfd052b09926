/**
 * Tenant isolation's bookkeeping in Redis, beside the image records: which
 * namespaces wait for their pull secret to be checked against an image,
 * which recently failed that check, and whose pull secret copied an image
 * (so a later re-copy, from a watch or a refresh, can use it again).
 *
 * Only namespaces and secret *names* are stored here, never what a secret
 * holds: the worker reads the content from the Kubernetes API when it needs
 * it, and keeps it in memory only.
 */
import { createHash } from 'node:crypto';
import type { ImageStore } from './store.js';

/** Whose credentials a copy or a verification may use: a namespace and the pull-secret names its pod gave. */
export interface Requester {
  namespace: string;
  pullSecrets: string[];
}

/** A pending entry outlives no copy: one that fails for good leaves its waiters to the next admission. */
const PENDING_TTL_MS = 3600_000;
/** How long a namespace whose credentials did not match is left alone (admissions keep asking). */
export const VERIFY_FAILED_TTL_MS = 60_000;

function parseRequester(namespace: string, raw: string): Requester | undefined {
  try {
    const names = JSON.parse(raw) as unknown;
    if (!Array.isArray(names)) return undefined;
    return { namespace, pullSecrets: names.filter((n): n is string => typeof n === 'string') };
  } catch {
    return undefined;
  }
}

export class Verifications {
  constructor(private readonly store: ImageStore) {}

  private get redis() {
    return this.store.redis;
  }

  /** `requester` waits for a check of `ref` (a later request of the same namespace replaces its secret names). */
  async add(ref: string, requester: Requester): Promise<void> {
    const key = this.store.k.verifyPending(ref);
    await this.redis.multi().hset(key, requester.namespace, JSON.stringify(requester.pullSecrets)).pexpire(key, PENDING_TTL_MS).exec();
  }

  /** Takes every waiting requester of `ref` (atomically: two workers never check the same one). */
  async take(ref: string): Promise<Requester[]> {
    const key = this.store.k.verifyPending(ref);
    const res = await this.redis.multi().hgetall(key).del(key).exec();
    const raw = (res?.[0]?.[1] ?? {}) as Record<string, string>;
    return Object.entries(raw).flatMap(([ns, v]) => parseRequester(ns, v) ?? []);
  }

  /** The waiting requesters of `ref`, left in place. */
  async peek(ref: string): Promise<Requester[]> {
    const raw = await this.redis.hgetall(this.store.k.verifyPending(ref));
    return Object.entries(raw).flatMap(([ns, v]) => parseRequester(ns, v) ?? []);
  }

  async hasPending(ref: string): Promise<boolean> {
    return (await this.redis.exists(this.store.k.verifyPending(ref))) === 1;
  }

  private failedKey(ref: string, r: Requester): string {
    const id = createHash('sha256')
      .update(JSON.stringify([ref, r.namespace, [...r.pullSecrets].sort()]))
      .digest('hex')
      .slice(0, 40);
    return this.store.k.verifyFailed(id);
  }

  /** Remember that `r`'s secrets did not give `ref` (a change of secret names is checked again at once). */
  async markFailed(ref: string, r: Requester, ttlMs = VERIFY_FAILED_TTL_MS): Promise<void> {
    await this.redis.set(this.failedKey(ref, r), '1', 'PX', ttlMs);
  }

  async recentlyFailed(ref: string, r: Requester): Promise<boolean> {
    return (await this.redis.exists(this.failedKey(ref, r))) === 1;
  }

  /** The requester whose pull secret copied `ref`: later copies without one of their own use it. */
  async rememberRequester(ref: string, r: Requester): Promise<void> {
    await this.redis.hset(this.store.k.requesters, ref, JSON.stringify({ namespace: r.namespace, pullSecrets: r.pullSecrets }));
  }

  async requesterOf(ref: string): Promise<Requester | undefined> {
    const raw = await this.redis.hget(this.store.k.requesters, ref);
    if (!raw) return undefined;
    try {
      const v = JSON.parse(raw) as { namespace?: unknown; pullSecrets?: unknown };
      return typeof v.namespace === 'string' ? parseRequester(v.namespace, JSON.stringify(v.pullSecrets ?? [])) : undefined;
    } catch {
      return undefined;
    }
  }
}

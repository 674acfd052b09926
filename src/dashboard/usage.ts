/**
 * "Who runs what" for the API: image records joined with the in-use index
 * (SPEC "Cluster awareness"). The index lives in Redis only, so every join
 * is bounded in time: a slow or absent Redis gives `usedBy: null` and
 * `cluster.status: "unknown"`, never a list that hangs. A page costs one
 * Redis round trip (InUseStore.usedBy is one pipeline); whether ferry has a
 * cluster view at all is asked at most every few seconds.
 */
import type { InUseStore, PodRun, UsedBy } from '../in-use/index.js';
import type { ImageRecord } from '../queue/index.js';

/**
 * What the usage figures rest on (`cluster` of `GET /api/images`):
 * - `live`: a pod tracker (any replica) has a synced, healthy watch now;
 * - `stale`: one synced once but none is watching now: `usedBy` is what was last known;
 * - `none`: no tracker ever synced (no kubeconfig, or the pod watch is off): `usedBy` is null;
 * - `unknown`: Redis did not answer in time: `usedBy` is null this time.
 */
export type ClusterStatus = 'live' | 'stale' | 'none' | 'unknown';

export interface ClusterView {
  status: ClusterStatus;
  /** When a tracker last finished listing every pod; null when none ever did (or unknown). */
  syncedAt: string | null;
}

/** A record as the API returns it. */
export type RecordWithUsage = ImageRecord & { usedBy: UsedBy | null };

/** A ref the index has never seen while ferry watches the cluster. */
const NEVER_SEEN: UsedBy = Object.freeze({ pods: 0, namespaces: [], lastSeenAt: null }) as UsedBy;
const UNKNOWN: ClusterView = Object.freeze({ status: 'unknown', syncedAt: null });

/** `p`, or a rejection after `ms` (ioredis would queue a command until Redis is back: the caller must not wait that long). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`${what}: Redis did not answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export interface UsageOptions {
  store: InUseStore;
  /** The command connection is up: don't even ask otherwise. */
  redisReady: () => boolean;
  /** How long an answer of `InUseStore.live()` is reused (default 5 s). */
  cacheMs?: number;
  /** Bound on each Redis read (default 1.5 s, as /api/stats). */
  timeoutMs?: number;
  now?: () => number;
}

export class Usage {
  private cached: { at: number; view: ClusterView } | undefined;
  private asking: Promise<ClusterView> | undefined;
  private readonly cacheMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly o: UsageOptions) {
    this.cacheMs = o.cacheMs ?? 5000;
    this.timeoutMs = o.timeoutMs ?? 1500;
    this.now = o.now ?? Date.now;
  }

  private fresh(): ClusterView | undefined {
    return this.cached && this.now() - this.cached.at < this.cacheMs ? this.cached.view : undefined;
  }

  /** Whether ferry sees the cluster (cached for `cacheMs`; a failed ask is not cached). */
  async cluster(): Promise<ClusterView> {
    if (!this.o.redisReady()) return UNKNOWN;
    const hit = this.fresh();
    if (hit) return hit;
    // Concurrent pages share one ask.
    this.asking ??= within(this.o.store.live(), this.timeoutMs, 'cluster view')
      .then((l): ClusterView => {
        const view: ClusterView = { status: l.live ? 'live' : l.syncedAt ? 'stale' : 'none', syncedAt: l.syncedAt };
        this.cached = { at: this.now(), view };
        return view;
      })
      .catch(() => UNKNOWN)
      .finally(() => (this.asking = undefined));
    return this.asking;
  }

  /** The records with `usedBy` (a new object each: records in the index are shared and never edited). */
  async join(records: readonly ImageRecord[]): Promise<{ items: RecordWithUsage[]; cluster: ClusterView }> {
    const none = (cluster: ClusterView) => ({ items: records.map((r) => ({ ...r, usedBy: null })), cluster });
    if (!this.o.redisReady()) return none(UNKNOWN);
    const known = this.fresh();
    if (known && known.status === 'none') return none(known);
    const refs = records.map((r) => r.ref);
    // Cold cache: ask both at once, so the page still waits one round trip.
    const [cluster, used] = await Promise.all([
      known ?? this.cluster(),
      refs.length ? within(this.o.store.usedBy(refs), this.timeoutMs, 'usedBy').catch(() => undefined) : Promise.resolve(new Map<string, UsedBy>()),
    ]);
    if (cluster.status === 'none' || cluster.status === 'unknown') return none(cluster);
    if (!used) return none(UNKNOWN);
    return { items: records.map((r) => ({ ...r, usedBy: used.get(r.ref) ?? NEVER_SEEN })), cluster };
  }

  /** One record with `usedBy`. */
  async one(record: ImageRecord): Promise<RecordWithUsage> {
    return (await this.join([record])).items[0]!;
  }

  /** Pods running `ref` now (rejects when Redis does not answer in time). */
  podsOf(ref: string): Promise<PodRun[]> {
    return within(this.o.store.podsOf(ref), this.timeoutMs, 'pods');
  }
}

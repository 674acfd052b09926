/**
 * The in-use index in Redis, shared by replicas (SPEC "Cluster awareness").
 * Per pod one hash (container -> entry); per ref the set of pods naming it
 * and a namespace count; per digest a running count; a last-seen time per
 * ref and digest once its last pod goes (retention and GC protect what ran
 * within `gc.keepUnusedFor`). So memory follows pods, and a pod write is one
 * Lua round trip that writes only what changed (scripts.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { inUseKeys, type InUseKeys } from './keys.js';
import { ENTRY_SEPARATOR, HEARTBEAT, SET_POD } from './scripts.js';
import type { DigestUse, PodImage, PodRun, UsedBy } from './types.js';

type ScriptRedis = Redis & {
  ferryInUseSetPod(...args: string[]): Promise<number>;
  ferryInUseHeartbeat(...args: string[]): Promise<number>;
};
type ScriptPipeline = ReturnType<Redis['pipeline']> & { ferryInUseSetPod(...args: string[]): unknown };

export interface HeartbeatOptions {
  /** Which tracker beats (one per watch); defaults to this store's own id. */
  tracker?: string;
  /** The tracker has just finished an initial list or relist: `live().syncedAt` moves to now. */
  synced?: boolean;
}

/** Pod writes per pipeline: big enough to amortize round trips, small enough not to stall Redis. */
const WRITE_BATCH = 1000;

/** One pod's images, as `setPods` takes them. */
export interface PodWrite {
  namespace: string;
  pod: string;
  images: readonly PodImage[];
}

/** The entry body scripts.ts stores (all but firstSeenMs). Tabs cannot occur: refs, images and node names are validated strings. */
function entryBody(i: PodImage): string {
  return [i.ref, i.digest ?? '', i.node ?? '', i.image, i.list, i.rewritten ? '1' : ''].join(ENTRY_SEPARATOR);
}

function podKeyOf(namespace: string, pod: string): string {
  return `${namespace}/${pod}`;
}

function iso(ms: number | string): string {
  return new Date(Number(ms)).toISOString();
}

export class InUseStore {
  readonly keys: InUseKeys;
  /** This store's tracker id for heartbeats that name none. */
  readonly id = randomUUID();
  private readonly scripts: ScriptRedis;

  constructor(
    readonly redis: Redis,
    readonly prefix: string,
    readonly now: () => number = Date.now,
  ) {
    this.keys = inUseKeys(prefix);
    const r = redis as ScriptRedis;
    if (typeof r.ferryInUseSetPod !== 'function') {
      // One declared key (the live set, inside the prefix's hash slot) so a
      // Redis Cluster client routes the script to the node owning that slot;
      // the Lua builds the rest of its keys from ARGV[1], the same slot.
      r.defineCommand('ferryInUseSetPod', { numberOfKeys: 1, lua: SET_POD });
      r.defineCommand('ferryInUseHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT });
    }
    this.scripts = r;
  }

  private setPodArgs(namespace: string, pod: string, images: readonly PodImage[]): string[] {
    const args = [this.keys.live, this.keys.base, String(this.now()), namespace, pod];
    // one entry per container (a pod cannot name two containers alike; keep the last if it did)
    const byContainer = new Map<string, string>();
    for (const i of images) byContainer.set(i.container, entryBody(i));
    for (const [container, body] of byContainer) args.push(container, body);
    return args;
  }

  /** Replaces what the index holds for one pod (`namespace/name`); an empty list removes it. Resolves with how many entries changed. */
  async setPod(namespace: string, pod: string, images: PodImage[]): Promise<number> {
    return this.scripts.ferryInUseSetPod(...this.setPodArgs(namespace, pod, images));
  }

  async removePod(namespace: string, pod: string): Promise<void> {
    await this.setPod(namespace, pod, []);
  }

  /**
   * `setPod` for many pods, pipelined (the pod tracker's write path: an
   * initial list is tens of thousands of pods). Resolves with each pod's
   * error or null, in order; never rejects for one pod's failure.
   */
  async setPods(pods: readonly PodWrite[]): Promise<(Error | null)[]> {
    const sent: Promise<(Error | null)[]>[] = [];
    // Every pipeline is sent before any is awaited, so a later call's writes always land after these.
    for (let i = 0; i < pods.length; i += WRITE_BATCH) {
      const batch = pods.slice(i, i + WRITE_BATCH);
      const pipe = this.redis.pipeline() as ScriptPipeline;
      for (const p of batch) pipe.ferryInUseSetPod(...this.setPodArgs(p.namespace, p.pod, p.images));
      sent.push(
        pipe.exec().then(
          (res) => batch.map((_, n) => res?.[n]?.[0] ?? null),
          (e: unknown) => batch.map(() => (e instanceof Error ? e : new Error(String(e)))),
        ),
      );
    }
    return (await Promise.all(sent)).flat();
  }

  /**
   * After an initial list or a relist: every pod the index holds that is not
   * in `present` (`namespace/name`) is removed. Returns how many. `present`
   * is asked once the index's pods are read, so a live view (the tracker's)
   * keeps a pod that arrived meanwhile. Another replica's pod this tracker
   * has not seen yet is removed too, and comes back with this tracker's
   * watch event for it moments later.
   *
   * Every pod of `view` (the tracker's, read then too) with images that the
   * index does not hold is written again: a relist writes only pods that
   * changed, so pods Redis lost while no heartbeat could tell (a restart
   * without its data during a watch restart) would otherwise stay missing.
   */
  async reconcile(present: Pick<ReadonlySet<string>, 'has'>, view: Iterable<PodWrite> = []): Promise<number> {
    const held = await this.redis.smembers(this.keys.pods);
    const writes: PodWrite[] = [];
    for (const podKey of held) {
      if (present.has(podKey)) continue;
      const slash = podKey.indexOf('/');
      writes.push({ namespace: podKey.slice(0, slash), pod: podKey.slice(slash + 1), images: [] });
    }
    const removed = writes.length;
    const holds = new Set(held);
    for (const p of view) if (p.images.length > 0 && !holds.has(podKeyOf(p.namespace, p.pod))) writes.push(p);
    const failed = (await this.setPods(writes)).find((e) => e !== null);
    if (failed) throw failed;
    return removed;
  }

  /** Pods running `ref` now (normalized upstream reference), sorted by namespace, pod, container. */
  async podsOf(ref: string): Promise<PodRun[]> {
    const podKeys = await this.redis.smembers(this.keys.refPods(ref));
    if (podKeys.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const k of podKeys) pipe.hgetall(this.keys.pod(k));
    const res = (await pipe.exec()) ?? [];
    const nowIso = iso(this.now());
    const out: PodRun[] = [];
    podKeys.forEach((podKey, n) => {
      const [err, hash] = res[n] ?? [];
      if (err || !hash) return;
      const slash = podKey.indexOf('/');
      for (const [container, value] of Object.entries(hash as Record<string, string>)) {
        const [entryRef, digest, node, , , , first] = value.split(ENTRY_SEPARATOR);
        if (entryRef !== ref) continue;
        out.push({
          namespace: podKey.slice(0, slash),
          pod: podKey.slice(slash + 1),
          container,
          node: node || null,
          digest: digest || null,
          firstSeenAt: iso(first ?? 0),
          lastSeenAt: nowIso,
        });
      }
    });
    return out.sort(
      (a, b) => cmp(a.namespace, b.namespace) || cmp(a.pod, b.pod) || cmp(a.container, b.container),
    );
  }

  /** `usedBy` of each ref (refs never seen are absent). */
  async usedBy(refs: readonly string[]): Promise<Map<string, UsedBy>> {
    const out = new Map<string, UsedBy>();
    const unique = [...new Set(refs)];
    if (unique.length === 0) return out;
    const pipe = this.redis.pipeline();
    for (const ref of unique) {
      pipe.scard(this.keys.refPods(ref));
      pipe.hkeys(this.keys.refNamespaces(ref));
    }
    pipe.hmget(this.keys.refSeen, ...unique);
    const res = (await pipe.exec()) ?? [];
    const seen = (res[unique.length * 2]?.[1] ?? []) as (string | null)[];
    const nowIso = iso(this.now());
    unique.forEach((ref, n) => {
      const pods = Number(res[n * 2]?.[1] ?? 0);
      if (pods > 0) {
        const namespaces = ((res[n * 2 + 1]?.[1] ?? []) as string[]).sort(cmp);
        out.set(ref, { pods, namespaces, lastSeenAt: nowIso });
      } else if (seen[n]) {
        out.set(ref, { pods: 0, namespaces: [], lastSeenAt: iso(seen[n]) });
      }
    });
    return out;
  }

  /** When each mirror digest was last run (digests never seen are absent). */
  async digestUses(digests: readonly string[]): Promise<Map<string, DigestUse>> {
    const out = new Map<string, DigestUse>();
    const unique = [...new Set(digests)];
    if (unique.length === 0) return out;
    const [running, seen] = await Promise.all([
      this.redis.hmget(this.keys.digests, ...unique),
      this.redis.hmget(this.keys.digestSeen, ...unique),
    ]);
    const nowIso = iso(this.now());
    unique.forEach((digest, n) => {
      const count = Number(running[n] ?? 0);
      if (count > 0) out.set(digest, { running: count, lastSeenAt: nowIso });
      else if (seen[n]) out.set(digest, { running: 0, lastSeenAt: iso(seen[n]) });
    });
    return out;
  }

  /** Refs some pod names now, sorted. */
  async inUseRefs(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.refs)).sort(cmp);
  }

  /**
   * Called by a tracker after its initial list (`synced: true`) and
   * periodically while its watch is healthy. Resolves false when this
   * tracker's previous heartbeat was gone (its TTL lapsed, or Redis lost its
   * data): what it wrote may be gone too.
   */
  async heartbeat(ttlMs: number, opts: HeartbeatOptions = {}): Promise<boolean> {
    return 1 === await this.scripts.ferryInUseHeartbeat(this.keys.live, this.keys.base, String(this.now()), opts.tracker ?? this.id, String(ttlMs), opts.synced ? '1' : '');
  }

  /** A tracker whose watch broke or that closes stops counting as live at once, not when its TTL runs out. */
  async endHeartbeat(tracker: string = this.id): Promise<void> {
    await this.redis.zrem(this.keys.live, tracker);
  }

  /** Whether some tracker (any replica) has a synced, healthy pod watch now; GC and retention's protection trust the index only then. */
  async live(): Promise<{ live: boolean; syncedAt: string | null }> {
    const [beating, synced] = await Promise.all([
      this.redis.zcount(this.keys.live, `(${this.now()}`, '+inf'),
      this.redis.get(this.keys.syncedAt),
    ]);
    return { live: beating > 0 && synced !== null, syncedAt: synced === null ? null : iso(synced) };
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

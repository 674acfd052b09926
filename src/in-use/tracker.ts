/**
 * The pod tracker: a client-node informer over every pod, feeding the in-use
 * index (SPEC "Cluster awareness"). Most pod updates are status-only, so a
 * pod's images (ref, digest, node) are compared with what the tracker last
 * wrote and unchanged pods cost no Redis write. Writes are coalesced per pod
 * and pipelined (writes.ts); a failed write is retried on the next tick, and
 * the tracker heartbeats only while its view is in Redis, so readers of
 * `InUseStore.live()` never trust a stale index.
 *
 * client-node's ListWatch keeps every pod object already, so the tracker's
 * own view is compact: per pod its namespace, name, uid and PodImages
 * (strings shared with the informer's objects and the parse cache).
 *
 * After each list the tracker drops from its view (and the index) what the
 * list no longer has, and reconciles the shared index with the list, so a
 * pod deleted while the watch was down (410 Gone included) or while ferry was
 * stopped goes. A failed list or watch restarts with a fresh informer (a full
 * relist) after a jittered backoff; the index keeps what it has meanwhile
 * but is not live.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CoreV1Api, Informer, ObjectCache, V1Pod, V1PodList } from '@kubernetes/client-node';
import { backoffDelay } from '../async/index.js';
import { coreApiWithDeadline, currentListWatch, type KubeClient } from '../kube/index.js';
import type { Logger } from '../observability/index.js';
import type { MirrorOptions } from '../reference/index.js';
import { trackers, updateSeconds, watchErrors } from './metrics.js';
import { podImages } from './pod-images.js';
import type { InUseStore, PodWrite } from './store.js';
import type { PodImage } from './types.js';
import { IndexWriter } from './writes.js';

/** client-node's ListWatch never asks for bookmarks itself; they let a re-watch resume without a relist. */
const PODS_PATH = '/api/v1/pods?allowWatchBookmarks=true';
const RESTART_CAP_MS = 30_000;
/** How long close() waits for the last writes and the heartbeat's removal. */
const CLOSE_WAIT_MS = 5_000;
/** The API server ends a list itself within a minute (its request timeout); past this the connection is dead. */
const LIST_TIMEOUT_MS = 120_000;

export interface PodTrackerOptions {
  kube: KubeClient;
  store: InUseStore;
  /** The mirror in force (read per pod event, so a config reload applies). */
  mirror: () => MirrorOptions;
  logger: Logger;
  /** Heartbeat and retry period; the heartbeat's TTL is three of them. @defaultValue 10_000 */
  heartbeatMs?: number;
  /** First delay before restarting a failed list/watch, doubling (jittered) up to 30 s. @defaultValue 1000 */
  restartBackoffMs?: number;
  /** Pods per LIST page. @defaultValue 500 */
  pageSize?: number;
  /** Deadline of one LIST request: a list the API server never answers (a dead connection) fails and restarts. @defaultValue 120_000 */
  listTimeoutMs?: number;
  /** Each pod write acknowledged after the first sync, with the seconds since its event arrived (benchmarks, tests). */
  onIndexed?: (podKey: string, seconds: number) => void;
}

/** One pod as the tracker holds it. */
export interface TrackedPod {
  namespace: string;
  name: string;
  uid: string;
  images: PodImage[];
}

export interface PodChange {
  type: 'upsert' | 'delete';
  namespace: string;
  name: string;
  uid: string;
  images: PodImage[];
  previous: PodImage[];
}

export interface PodTrackerEvents {
  change: [PodChange];
  /** After each successful (re)list once its pods are in the index, and after the view was written again into a Redis that had lost it. */
  synced: [];
  /** The list or watch failed; a restart (with a relist) follows after a backoff. */
  watchError: [unknown];
}

function sameImages(a: readonly PodImage[], b: readonly PodImage[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.container !== y.container || x.ref !== y.ref || x.digest !== y.digest || x.node !== y.node || x.image !== y.image || x.list !== y.list || x.rewritten !== y.rewritten) return false;
  }
  return true;
}

function is410(e: unknown): boolean {
  const err = e as { code?: unknown; statusCode?: unknown } | null;
  return err?.code === 410 || err?.statusCode === 410;
}

function mirrorKey(m: MirrorOptions): string {
  return `${m.registry}\n${m.prefix ?? ''}`;
}

export class PodTracker extends EventEmitter<PodTrackerEvents> {
  /** True while the tracker's view is the cluster's: listed, and the watch running since. */
  synced = false;
  /** This tracker's id in the index's heartbeats. */
  readonly id = randomUUID();
  private readonly byKey = new Map<string, TrackedPod>();
  /** Pods naming each ref (for `ferry_in_use_images`). */
  private readonly refPods = new Map<string, number>();
  private informer: Informer<V1Pod> & ObjectCache<V1Pod>;
  /** Which informer is current: a restart builds a new one and ignores what the old one still says. */
  private generation = 0;
  private readonly writer: IndexWriter;
  private readonly heartbeatMs: number;
  private readonly restartBackoffMs: number;
  private readonly pageSize: number;
  /** client-node's own CoreV1Api has no deadline: a dead connection would hold the list, and the tracker, forever. */
  private core: CoreV1Api | undefined;
  private readonly tick: NodeJS.Timeout;
  private restartTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private attempts = 0;
  /** The last generation whose list or watch failed: its pending sync must not mark the tracker synced. */
  private failedGeneration = 0;
  /** performance.now() when the tracker last became synced. */
  private syncedSince = 0;
  /** The last list is not yet reconciled with the index (the reconcile failed). */
  private reconcilePending = false;
  /** The next heartbeat says the tracker has just (re)synced. */
  private announceSync = false;
  private mirrorSeen: string;

  constructor(private readonly opts: PodTrackerOptions) {
    super();
    this.heartbeatMs = opts.heartbeatMs ?? 10_000;
    this.restartBackoffMs = opts.restartBackoffMs ?? 1000;
    this.pageSize = opts.pageSize ?? 500;
    this.mirrorSeen = mirrorKey(opts.mirror());
    this.writer = new IndexWriter({
      store: opts.store,
      imagesOf: (key) => this.byKey.get(key)?.images ?? [],
      onIndexed: (key, seconds) => {
        // the initial list's writes are the list's cost, not an update's
        if (!this.synced) return;
        updateSeconds.observe(seconds);
        opts.onIndexed?.(key, seconds);
      },
      onFailed: (count, err) => {
        watchErrors.inc({ kind: 'write' }, count);
        opts.logger.warn({ err: String(err), pods: count }, 'in-use index writes failed; retrying on the next tick (the index is not live meanwhile)');
      },
    });
    this.informer = this.makeInformer();
    this.tick = setInterval(() => this.background(this.onTick(), 'tick'), this.heartbeatMs);
    this.tick.unref();
    trackers.add(this);
    this.background(this.run(), 'start');
  }

  /** Work nobody awaits (timers, informer callbacks): a failure, a listener's throw included, is logged, never an unhandled rejection. */
  private background(work: Promise<unknown>, what: string): void {
    work.catch((err: unknown) => this.opts.logger.error({ err: String(err) }, `pod tracker ${what} failed`));
  }

  /** Pods held. */
  get size(): number {
    return this.byKey.size;
  }

  /** Distinct refs the held pods name. */
  get refCount(): number {
    return this.refPods.size;
  }

  /** The tracker's compact view of every pod. */
  pods(): Iterable<TrackedPod> {
    return this.byKey.values();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.synced = false;
    clearInterval(this.tick);
    clearTimeout(this.restartTimer);
    trackers.delete(this);
    await this.informer.stop();
    // Redis commands wait for a reconnect: an unreachable Redis must not hold up a shutdown.
    let timer: NodeJS.Timeout | undefined;
    const settled = (async () => {
      await this.writer.drain();
      await this.opts.store.endHeartbeat(this.id);
    })().catch(() => {});
    await Promise.race([settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /**
   * A fresh informer per (re)start: its first list is then a full relist
   * whatever the old one's resourceVersion was, and the tracker diffs it
   * against its own view (onListed), so a restart can never leave a pod the
   * cluster lost meanwhile. (client-node resumes clean watch ends and 410s by
   * itself; only errors come here.)
   */
  private makeInformer(): Informer<V1Pod> & ObjectCache<V1Pod> {
    const gen = ++this.generation;
    const current = () => gen === this.generation && !this.closed;
    return currentListWatch<V1Pod>(this.opts.kube, PODS_PATH, current, () => this.listPods(gen), {
      put: (pod) => this.onPod(pod),
      drop: (pod) => this.onDelete(pod),
      error: (err) => this.onError(err),
    });
  }

  private async run(): Promise<void> {
    try {
      await this.informer.start();
    } catch (e) {
      this.onError(e);
    }
  }

  private restart(): void {
    if (this.closed) return;
    const old = this.informer;
    this.informer = this.makeInformer();
    void old.stop().catch(() => {});
    this.background(this.run(), 'restart');
  }

  /** The informer's list: every pod, paged. An expired continue token (410) restarts the list once, unpaged. */
  private async listPods(gen: number): Promise<V1PodList> {
    const core = (this.core ??= coreApiWithDeadline(this.opts.kube, { timeoutMs: this.opts.listTimeoutMs ?? LIST_TIMEOUT_MS, maxResponseBytes: Infinity }));
    let limit: number | undefined = this.pageSize;
    for (;;) {
      const items: V1Pod[] = [];
      let cont: string | undefined;
      let resourceVersion: string | undefined;
      try {
        do {
          const page: V1PodList = await core.listPodForAllNamespaces({ ...(limit ? { limit } : {}), ...(cont ? { _continue: cont } : {}) });
          for (const p of page.items) items.push(p);
          resourceVersion = page.metadata?.resourceVersion;
          cont = page.metadata?._continue || undefined;
        } while (cont);
      } catch (e) {
        if (is410(e) && limit !== undefined) {
          limit = undefined;
          continue;
        }
        throw e;
      }
      const listed = new Set<string>();
      for (const p of items) if (p.metadata?.namespace && p.metadata.name) listed.add(`${p.metadata.namespace}/${p.metadata.name}`);
      // client-node applies the list synchronously once this resolves; by the next macrotask it is in the view.
      setImmediate(() => gen === this.generation && this.background(this.onListed(gen, listed), 'sync'));
      return { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion }, items };
    }
  }

  private async onListed(gen: number, listed: ReadonlySet<string>): Promise<void> {
    if (this.closed) return;
    // A new informer's first list knows nothing of pods deleted before it: they are gone from the view now.
    for (const [key, p] of this.byKey) if (!listed.has(key)) this.forget(key, p.namespace, p.name, performance.now());
    await this.writer.flush();
    await this.reconcile();
    // The watch that follows the list may have failed meanwhile: a restart is on its way, this is not a sync.
    if (gen !== this.generation || this.failedGeneration === gen) return;
    this.markSynced();
  }

  /** Against the live view: a pod that arrives while the index is read is kept. */
  private async reconcile(): Promise<void> {
    try {
      const removed = await this.opts.store.reconcile(this.byKey, this.writes());
      this.reconcilePending = false;
      if (removed > 0) this.opts.logger.info({ removed }, 'in-use index: removed pods that are gone from the cluster');
    } catch (e) {
      this.reconcilePending = true;
      watchErrors.inc({ kind: 'write' });
      this.opts.logger.warn({ err: String(e) }, 'in-use index reconcile failed; retrying on the next tick');
    }
  }

  /** The view as pod writes (read lazily, so it is the view at the time). */
  private *writes(): Iterable<PodWrite> {
    for (const p of this.byKey.values()) yield { namespace: p.namespace, pod: p.name, images: p.images };
  }

  private markSynced(): void {
    if (this.closed) return;
    const first = !this.synced;
    if (first) this.syncedSince = performance.now();
    this.synced = true;
    this.announceSync = true;
    if (first) this.opts.logger.info({ pods: this.byKey.size, images: this.refPods.size }, 'pod watch synced: in-use index is live');
    this.background(this.beat(), 'heartbeat');
    this.emit('synced');
  }

  private onPod(pod: V1Pod): void {
    const receivedAt = performance.now();
    const namespace = pod.metadata?.namespace;
    const name = pod.metadata?.name;
    if (!namespace || !name) return;
    const key = `${namespace}/${name}`;
    const uid = pod.metadata?.uid ?? '';
    const images = podImages(pod, this.opts.mirror());
    const prev = this.byKey.get(key);
    if (prev && sameImages(prev.images, images)) {
      prev.uid = uid;
      return;
    }
    this.byKey.set(key, { namespace, name, uid, images });
    this.countRefs(prev?.images ?? [], images);
    this.writer.schedule(key, receivedAt);
    this.emit('change', { type: 'upsert', namespace, name, uid, images, previous: prev?.images ?? [] });
  }

  private onDelete(pod: V1Pod): void {
    const receivedAt = performance.now();
    const namespace = pod.metadata?.namespace;
    const name = pod.metadata?.name;
    if (namespace && name) this.forget(`${namespace}/${name}`, namespace, name, receivedAt, pod.metadata?.uid);
  }

  private forget(key: string, namespace: string, name: string, receivedAt: number, uid?: string): void {
    const prev = this.byKey.get(key);
    this.byKey.delete(key);
    this.countRefs(prev?.images ?? [], []);
    this.writer.schedule(key, receivedAt);
    this.emit('change', { type: 'delete', namespace, name, uid: prev?.uid ?? uid ?? '', images: [], previous: prev?.images ?? [] });
  }

  private countRefs(before: readonly PodImage[], after: readonly PodImage[]): void {
    const gone = new Set(before.map((i) => i.ref));
    for (const ref of new Set(after.map((i) => i.ref))) {
      if (gone.delete(ref)) continue;
      this.refPods.set(ref, (this.refPods.get(ref) ?? 0) + 1);
    }
    for (const ref of gone) {
      const n = (this.refPods.get(ref) ?? 0) - 1;
      if (n > 0) this.refPods.set(ref, n);
      else this.refPods.delete(ref);
    }
  }

  private onError(err: unknown): void {
    if (this.closed) return;
    this.failedGeneration = this.generation;
    // Only a watch that stayed up a while starts the backoff over: one that fails right after each list would relist in a hot loop.
    if (this.synced && performance.now() - this.syncedSince >= RESTART_CAP_MS) this.attempts = 0;
    this.synced = false;
    watchErrors.inc({ kind: 'watch' });
    void this.opts.store.endHeartbeat(this.id).catch(() => {});
    const delay = backoffDelay(++this.attempts, { initialMs: this.restartBackoffMs, maxMs: RESTART_CAP_MS, jitter: 'equal' });
    this.opts.logger.warn(
      { err: String(err), retryInMs: delay, status: (err as { code?: unknown })?.code ?? (err as { statusCode?: unknown })?.statusCode },
      'pod watch failed; restarting (the in-use index keeps what it has but is not live meanwhile)',
    );
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => this.restart(), delay);
    this.restartTimer.unref();
    this.emit('watchError', err);
  }

  /** Periodic: re-derive images after a mirror change, retry failed writes and reconciles, heartbeat. */
  private async onTick(): Promise<void> {
    if (this.closed) return;
    const mirror = this.opts.mirror();
    if (mirrorKey(mirror) !== this.mirrorSeen) {
      this.mirrorSeen = mirrorKey(mirror);
      for (const pod of this.informer.list()) this.onPod(pod);
    }
    await this.writer.retryFailed();
    if (this.reconcilePending) await this.reconcile();
    await this.beat();
  }

  /**
   * The heartbeat had lapsed (Redis restarted without its data, or was away
   * longer than the TTL): write the whole view again. Idempotent, so pods
   * Redis still holds cost a diff and nothing more.
   */
  private async rewriteAll(): Promise<void> {
    this.opts.logger.warn({ pods: this.byKey.size }, 'in-use index heartbeat had lapsed; writing every tracked pod again');
    const now = performance.now();
    for (const key of this.byKey.keys()) this.writer.schedule(key, now);
    await this.writer.flush();
    this.announceSync = true;
    await this.beat();
    this.emit('synced');
  }

  /** Heartbeats only while the tracker's whole view is in Redis. */
  private async beat(): Promise<void> {
    if (this.closed || !this.synced || this.reconcilePending || this.writer.failedCount > 0) return;
    const synced = this.announceSync;
    try {
      const continued = await this.opts.store.heartbeat(this.heartbeatMs * 3, { tracker: this.id, synced });
      if (synced) this.announceSync = false;
      else if (!continued) await this.rewriteAll();
    } catch (e) {
      this.opts.logger.warn({ err: String(e) }, 'in-use index heartbeat failed');
    }
  }
}

/** Starts watching pods into `store`. Await `once(tracker, 'synced')` for the first list to be indexed. */
export function startPodTracker(opts: PodTrackerOptions): PodTracker {
  return new PodTracker(opts);
}

/**
 * The workload image index's writer (watch role): one informer per kind
 * (kind-watch.ts) over Deployments, StatefulSets and DaemonSets in every
 * namespace; each object becomes its entry (workload-images.ts, pure) and
 * only an entry that changed is written. Writes coalesce until the next
 * macrotask and write the workload's CURRENT entry, so a retried write
 * never overwrites a newer one.
 *
 * After each (re)list of a kind its whole slice of the index is replaced,
 * so a workload deleted while no watch ran (410 Gone, ferry stopped) goes.
 * 'synced' is emitted once every kind's list is in Redis, and after each
 * relist. A failed write is retried on the next tick; a tick that finds
 * the index's sync mark gone (Redis restarted without its data) writes the
 * whole view again. A config reload that changes the mirror, rewrite or
 * block rules re-derives every entry on the next tick.
 */
import { EventEmitter } from 'node:events';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import type { FerryConfig } from '../config/index.js';
import type { KubeClient } from '../kube/index.js';
import type { Logger } from '../observability/index.js';
import { KindWatch } from './kind-watch.js';
import { indexErrors, indexes } from './metrics.js';
import { kindOfKey, WorkloadStore, type WorkloadWrite } from './store.js';
import { WORKLOAD_KINDS, type WorkloadEntry, type WorkloadKind } from './types.js';
import { sameEntry, workloadImages, workloadKey } from './workload-images.js';

/** How long close() waits for the last writes. */
const CLOSE_WAIT_MS = 5_000;

export interface WorkloadIndexOptions {
  kube: KubeClient;
  redis: Redis;
  /** `queue.prefix`: the index lives under `<prefix>:workloads`. */
  prefix: string;
  logger: Logger;
  /** The config in force (mirror, rewrite and block rules; read per event, so a reload applies). */
  config: () => FerryConfig;
  /** Retry and check period. @defaultValue 10_000 */
  tickMs?: number;
  /** First restart delay after a failed list/watch, doubling (jittered) up to 30 s. @defaultValue 1000 */
  restartBackoffMs?: number;
  /** Objects per LIST page. @defaultValue 500 */
  pageSize?: number;
}

export interface WorkloadIndexEvents {
  /** Every kind's list is in the index (first sync), or a relist's view is written again. */
  synced: [];
  /** A list or watch failed; it restarts with a relist after a backoff. */
  watchError: [unknown];
  /** One kind's (re)list is in Redis: its slice of the index is the cluster's. */
  listed: [kind: WorkloadKind];
  /** These workloads' entries (or removals) are in Redis now. */
  written: [keys: readonly string[]];
}

/** What a config change must re-derive entries for. */
function rulesKey(c: FerryConfig): string {
  return JSON.stringify([c.mirror.registry, c.mirror.prefix, c.rewrite, c.block]);
}

export class WorkloadIndex extends EventEmitter<WorkloadIndexEvents> {
  /** True once every kind is listed and its slice written (false again while a kind's watch is down). */
  synced = false;
  readonly store: WorkloadStore;
  private readonly watches: KindWatch[];
  /** `namespace/Kind/name` -> entry, only for workloads that need images now. */
  private readonly view = new Map<string, WorkloadEntry>();
  private readonly listed = new Set<WorkloadKind>();
  private readonly replacePending = new Set<WorkloadKind>();
  private pending = new Set<string>();
  private readonly failed = new Set<string>();
  private flushQueued = false;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly tick: NodeJS.Timeout;
  private closed = false;
  private rulesSeen: string;
  private ticking = false;
  /** The sync mark's write failed: the next tick writes it. */
  private markPending = false;

  constructor(private readonly opts: WorkloadIndexOptions) {
    super();
    this.store = new WorkloadStore(opts.redis, opts.prefix);
    this.rulesSeen = rulesKey(opts.config());
    this.watches = WORKLOAD_KINDS.map((kind) => {
      const w = new KindWatch({ kube: opts.kube, kind, restartBackoffMs: opts.restartBackoffMs, pageSize: opts.pageSize });
      w.on('put', (o) => this.onPut(kind, o));
      w.on('drop', (o) => this.onDrop(kind, o));
      w.on('listed', (names) => this.background(this.onListed(kind, names), 'sync'));
      w.on('failed', (err, retry) => this.onFailed(kind, err, retry));
      return w;
    });
    this.tick = setInterval(() => {
      if (this.ticking) return; // a slow Redis: one tick at a time
      this.ticking = true;
      this.background(this.onTick().finally(() => (this.ticking = false)), 'tick');
    }, opts.tickMs ?? 10_000);
    this.tick.unref();
    indexes.add(this);
    for (const w of this.watches) w.start();
  }

  /** Workloads held (those needing at least one image). */
  get size(): number {
    return this.view.size;
  }

  /** Distinct images (pull references) the held workloads name. */
  get imageCount(): number {
    const pulls = new Set<string>();
    for (const e of this.view.values()) for (const i of e.images) pulls.add(i.pull);
    return pulls.size;
  }

  /** The entry of one workload as the index holds it (undefined: needs nothing, or unknown). */
  entry(kind: WorkloadKind, namespace: string, name: string): WorkloadEntry | undefined {
    return this.view.get(workloadKey(kind, namespace, name));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.synced = false;
    clearInterval(this.tick);
    indexes.delete(this);
    await Promise.all(this.watches.map((w) => w.close()));
    // Redis commands wait for a reconnect: an unreachable Redis must not hold up a shutdown.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /** Work nobody awaits (timers, informer callbacks): a failure is logged, never an unhandled rejection. */
  private background(work: Promise<unknown>, what: string): void {
    work.catch((err: unknown) => this.opts.logger.error({ err: String(err) }, `workload index ${what} failed`));
  }

  private keyOf(kind: WorkloadKind, o: KubernetesObject): string | undefined {
    const ns = o.metadata?.namespace;
    const name = o.metadata?.name;
    return ns && name ? workloadKey(kind, ns, name) : undefined;
  }

  private onPut(kind: WorkloadKind, o: KubernetesObject): void {
    const key = this.keyOf(kind, o);
    if (!key) return;
    const entry = workloadImages(kind, o, this.opts.config());
    this.set(key, entry);
  }

  private onDrop(kind: WorkloadKind, o: KubernetesObject): void {
    const key = this.keyOf(kind, o);
    if (key) this.set(key, null);
  }

  private set(key: string, entry: WorkloadEntry | null): void {
    if (sameEntry(this.view.get(key), entry)) return;
    if (entry) this.view.set(key, entry);
    else this.view.delete(key);
    this.schedule(key);
  }

  private async onListed(kind: WorkloadKind, names: ReadonlySet<string>): Promise<void> {
    if (this.closed) return;
    // A fresh informer's first list knows nothing of workloads deleted before it: they go from the view now.
    for (const key of [...this.view.keys()]) {
      if (kindOfKey(key) !== kind) continue;
      const [ns, , name] = key.split('/');
      if (!names.has(`${ns}/${name}`)) this.set(key, null);
    }
    await this.flush();
    if (!(await this.replace(kind))) return;
    this.listed.add(kind);
    this.emit('listed', kind);
    if (this.listed.size === WORKLOAD_KINDS.length) await this.markSynced();
  }

  /** The index's `kind` slice made this view's; false (and retried on the next tick) when the write failed. */
  private async replace(kind: WorkloadKind): Promise<boolean> {
    try {
      const removed = await this.store.replaceKind(kind, () => this.sliceOf(kind));
      this.replacePending.delete(kind);
      if (removed > 0) this.opts.logger.info({ kind, removed }, 'workload index: removed workloads that are gone from the cluster');
      return true;
    } catch (e) {
      this.replacePending.add(kind);
      indexErrors.inc({ kind: 'write' });
      this.opts.logger.warn({ err: String(e), kind }, 'workload index write failed; retrying on the next tick');
      return false;
    }
  }

  private sliceOf(kind: WorkloadKind): Map<string, WorkloadEntry> {
    const out = new Map<string, WorkloadEntry>();
    for (const [k, e] of this.view) if (kindOfKey(k) === kind) out.set(k, e);
    return out;
  }

  private async markSynced(): Promise<void> {
    if (this.closed) return;
    try {
      await this.store.markSynced();
      this.markPending = false;
    } catch (e) {
      this.markPending = true;
      indexErrors.inc({ kind: 'write' });
      this.opts.logger.warn({ err: String(e) }, 'workload index sync mark failed; retrying on the next tick');
      return;
    }
    const first = !this.synced;
    this.synced = true;
    if (first) this.opts.logger.info({ workloads: this.view.size, images: this.imageCount }, 'workload watch synced: workload image index is live');
    this.emit('synced');
  }

  private onFailed(kind: WorkloadKind, err: unknown, retry: { retryInMs: number; status: number | undefined }): void {
    if (this.closed) return;
    this.synced = false;
    this.listed.delete(kind);
    indexErrors.inc({ kind: 'watch' });
    const hint =
      retry.status === 403
        ? ` (RBAC: the watch role's ServiceAccount needs list and watch on apps/v1 ${kind.toLowerCase()}s cluster-wide; see docs/workloads.md)`
        : '';
    this.opts.logger.warn(
      { err: String(err), kind, status: retry.status, retryInMs: retry.retryInMs },
      `${kind} list/watch failed${hint}; restarting (the workload image index keeps what it has meanwhile)`,
    );
    this.emit('watchError', err);
  }

  private schedule(key: string): void {
    this.pending.add(key);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => void this.flush());
  }

  /** Sends what is pending (each workload's entry now); resolves once it and every earlier write settled. */
  private flush(): Promise<void> {
    this.flushQueued = false;
    if (this.pending.size === 0) return this.inFlight;
    const batch = [...this.pending];
    this.pending = new Set();
    const writes = batch.map((k): WorkloadWrite => [k, this.view.get(k) ?? null]);
    const done = this.store.write(writes).then(
      () => {
        for (const k of batch) this.failed.delete(k);
        try {
          this.emit('written', batch);
        } catch (e) {
          this.opts.logger.error({ err: String(e) }, 'a workload index listener failed');
        }
      },
      (e: unknown) => {
        for (const k of batch) if (!this.pending.has(k)) this.failed.add(k);
        indexErrors.inc({ kind: 'write' });
        this.opts.logger.warn({ err: String(e), workloads: batch.length }, 'workload index write failed; retrying on the next tick');
      },
    );
    this.inFlight = Promise.all([this.inFlight, done]).then(() => {});
    return this.inFlight;
  }

  /** Periodic: re-derive after a rules change, retry failed writes, write everything again into a Redis that lost it. */
  private async onTick(): Promise<void> {
    if (this.closed) return;
    const rules = rulesKey(this.opts.config());
    if (rules !== this.rulesSeen) {
      this.rulesSeen = rules;
      for (const w of this.watches) for (const o of w.objects()) this.onPut(w.kind, o);
    }
    for (const k of this.failed) this.pending.add(k);
    this.failed.clear();
    await this.flush();
    for (const kind of [...this.replacePending]) await this.replace(kind);
    if (this.listed.size < WORKLOAD_KINDS.length) return;
    if (this.markPending) return void (await this.markSynced());
    if (this.synced && !(await this.store.holdsSync())) {
      this.opts.logger.warn({ workloads: this.view.size }, 'workload index sync mark is gone (Redis lost its data?); writing every workload again');
      for (const kind of WORKLOAD_KINDS) if (!(await this.replace(kind))) return;
      await this.markSynced();
    }
  }
}

/** Starts indexing the images of every Deployment, StatefulSet and DaemonSet. Await `once(index, 'synced')` for the first lists to be in Redis. */
export function startWorkloadIndex(opts: WorkloadIndexOptions): WorkloadIndex {
  return new WorkloadIndex(opts);
}

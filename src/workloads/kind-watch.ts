/**
 * One client-node informer over one apps/v1 workload kind in every
 * namespace, the way the pod tracker (in-use/tracker.ts) runs its pod
 * informer: the list is paged (an expired continue token, 410, lists again
 * unpaged) and bounded by a deadline; client-node re-watches a clean end and
 * relists on 410 Gone by itself; any other list or watch failure restarts
 * with a fresh informer (a full relist) after a jittered backoff. After each
 * list, once client-node has applied it, `listed` names every workload it
 * holds, so the owner can drop what the cluster lost while no watch ran.
 */
import { EventEmitter } from 'node:events';
import type { AppsV1Api, Informer, KubernetesListObject, KubernetesObject, ObjectCache } from '@kubernetes/client-node';
import { backoffDelay } from '../async/index.js';
import { currentListWatch, statusCodeOf, withDeadline, type KubeClient } from '../kube/index.js';
import type { WorkloadKind } from './types.js';

const RESTART_CAP_MS = 30_000;
/** The API server ends a list itself within a minute; past this the connection is dead. */
const LIST_TIMEOUT_MS = 120_000;

type Page = { limit?: number; _continue?: string };
type WorkloadList = KubernetesListObject<KubernetesObject>;

/** Per kind: its URL (client-node's ListWatch never asks for bookmarks itself; they let a re-watch resume without a relist) and its list call. */
const KIND_API: Record<WorkloadKind, { path: string; list(api: AppsV1Api, page: Page): Promise<WorkloadList> }> = {
  Deployment: { path: '/apis/apps/v1/deployments?allowWatchBookmarks=true', list: (api, page) => api.listDeploymentForAllNamespaces(page) },
  StatefulSet: { path: '/apis/apps/v1/statefulsets?allowWatchBookmarks=true', list: (api, page) => api.listStatefulSetForAllNamespaces(page) },
  DaemonSet: { path: '/apis/apps/v1/daemonsets?allowWatchBookmarks=true', list: (api, page) => api.listDaemonSetForAllNamespaces(page) },
};

export interface KindWatchOptions {
  kube: KubeClient;
  kind: WorkloadKind;
  /** First restart delay after a failure, doubling (jittered) up to 30 s. @defaultValue 1000 */
  restartBackoffMs?: number;
  /** Objects per LIST page. @defaultValue 500 */
  pageSize?: number;
  /** @defaultValue 120_000 */
  listTimeoutMs?: number;
}

export interface KindWatchEvents {
  put: [KubernetesObject];
  drop: [KubernetesObject];
  /** A (re)list is applied: these are every `namespace/name` of the kind now. */
  listed: [ReadonlySet<string>];
  /** The list or watch failed; a restart (with a relist) follows after `retryInMs`. */
  failed: [err: unknown, retry: { retryInMs: number; status: number | undefined }];
}

export class KindWatch extends EventEmitter<KindWatchEvents> {
  private informer: Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
  /** Which informer is current: a restart builds a new one and ignores what the old one still says. */
  private generation = 0;
  private readonly api: AppsV1Api;
  private restartTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private closed = false;
  /** When the last list succeeded: only a watch that stayed up a while starts the backoff over. */
  private listedAt = 0;

  constructor(private readonly opts: KindWatchOptions) {
    super();
    this.api = opts.kube.config.makeApiClient(opts.kube.k8s.AppsV1Api);
    this.informer = this.makeInformer();
  }

  get kind(): WorkloadKind {
    return this.opts.kind;
  }

  /** The objects the informer holds now. */
  objects(): readonly KubernetesObject[] {
    return this.informer.list();
  }

  start(): void {
    void this.run();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    await this.informer.stop();
  }

  private makeInformer(): Informer<KubernetesObject> & ObjectCache<KubernetesObject> {
    const gen = ++this.generation;
    const current = () => gen === this.generation && !this.closed;
    return currentListWatch(this.opts.kube, KIND_API[this.opts.kind].path, current, () => this.list(gen), {
      put: (o) => this.emit('put', o),
      drop: (o) => this.emit('drop', o),
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

  /** Every object of the kind, paged; an expired continue token (410) lists again once, unpaged. */
  private async list(gen: number): Promise<WorkloadList> {
    const { kind } = this.opts;
    let limit: number | undefined = this.opts.pageSize ?? 500;
    for (;;) {
      const items: KubernetesObject[] = [];
      let cont: string | undefined;
      let resourceVersion: string | undefined;
      try {
        do {
          const page: WorkloadList = await withDeadline(
            KIND_API[kind].list(this.api, { ...(limit ? { limit } : {}), ...(cont ? { _continue: cont } : {}) }),
            this.opts.listTimeoutMs ?? LIST_TIMEOUT_MS,
            `listing ${kind}s`,
          );
          for (const o of page.items) items.push(o);
          resourceVersion = page.metadata?.resourceVersion;
          cont = page.metadata?._continue || undefined;
        } while (cont);
      } catch (e) {
        if (statusCodeOf(e) === 410 && limit !== undefined) {
          limit = undefined;
          continue;
        }
        throw e;
      }
      const names = new Set<string>();
      for (const o of items) if (o.metadata?.namespace && o.metadata.name) names.add(`${o.metadata.namespace}/${o.metadata.name}`);
      this.listedAt = performance.now();
      // client-node applies the list synchronously once this resolves; by the next macrotask it is in its cache.
      setImmediate(() => gen === this.generation && !this.closed && this.emit('listed', names));
      return { apiVersion: 'apps/v1', kind: `${kind}List`, metadata: { resourceVersion }, items };
    }
  }

  private onError(err: unknown): void {
    if (this.closed) return;
    if (this.listedAt > 0 && performance.now() - this.listedAt >= RESTART_CAP_MS) this.attempts = 0;
    const delay = backoffDelay(++this.attempts, { initialMs: this.opts.restartBackoffMs ?? 1000, maxMs: RESTART_CAP_MS, jitter: 'equal' });
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => this.restart(), delay);
    this.restartTimer.unref();
    this.emit('failed', err, { retryInMs: delay, status: statusCodeOf(err) });
  }

  private restart(): void {
    if (this.closed) return;
    const old = this.informer;
    this.informer = this.makeInformer();
    void old.stop().catch(() => {});
    void this.run();
  }
}

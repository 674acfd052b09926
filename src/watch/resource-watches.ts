/**
 * ImageWatch objects (imagewatches.ferry.io, every namespace) as watches:
 * a client-node informer keeps the current set, each valid object is a
 * ResourceWatch with id `<namespace>.<name>` (image-watch-object.ts), and
 * every change tells the watcher (`onChange` -> Watcher.sync()). A spec edit
 * (a new metadata.generation) asks for a poll; a deletion stops the watch and
 * forgets its status as the API's DELETE does. An invalid spec is no watch:
 * `onInvalid` lets the status writer say why on the object.
 *
 * Without the CRD (404 on the list) this logs once, with the fix, and lists
 * again every few minutes; other list/watch failures restart with backoff.
 * Nothing here throws into the role.
 */
import type { Informer, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { backoffDelay } from '../async/index.js';
import { statusCodeOf, withDeadline, type KubeClient } from '../kube/index.js';
import type { ResourceWatch } from './definition.js';
import { IMAGE_WATCH_GROUP, IMAGE_WATCH_PLURAL, IMAGE_WATCH_VERSION } from './image-watch-crd.js';
import { imageWatchId, parseImageWatch, type ImageWatchObject } from './image-watch-object.js';

/** client-node's ListWatch never asks for bookmarks itself; they let a re-watch resume without a relist. */
const PATH = `/apis/${IMAGE_WATCH_GROUP}/${IMAGE_WATCH_VERSION}/${IMAGE_WATCH_PLURAL}?allowWatchBookmarks=true`;
/** The CRD is not installed: look again this often (installing it needs no ferry restart). */
const NO_CRD_RETRY_MS = 5 * 60_000;
/** A list the API server never answers is a dead connection. */
const LIST_TIMEOUT_MS = 60_000;

export interface ImageWatchSourceOptions {
  kube: KubeClient;
  logger: Logger;
  /** The set of valid ImageWatches changed (added, removed, spec edited). */
  onChange(): void;
  /** A valid ImageWatch's spec is new or edited (generation not yet in its status): poll it soon. */
  onSpecChange(id: string, watch: ResourceWatch): void;
  /** An ImageWatch went away, or its spec became invalid: its watch stopped. */
  onRemoved(id: string): void;
  /** An ImageWatch whose spec ferry refuses. */
  onInvalid(obj: ImageWatchObject, problems: string[]): void;
  /** First restart delay after a failure, doubling up to 60 s. @defaultValue 1000 */
  restartBackoffMs?: number;
  /** @defaultValue 5 min */
  noCrdRetryMs?: number;
}

interface Entry {
  obj: ImageWatchObject;
  /** undefined when the spec is invalid. */
  watch: ResourceWatch | undefined;
  /** What a change is compared on: spec, generation, uid. */
  key: string;
}

export class ImageWatchSource {
  private readonly byId = new Map<string, Entry>();
  private informer: Informer<KubernetesObject> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private closed = false;
  private saidNoCrd = false;
  private firstListed: () => void = () => {};
  /** Resolves after the first list succeeded or failed (the role waits for it, bounded, before its first sync). */
  readonly firstList: Promise<void> = new Promise((resolve) => (this.firstListed = resolve));
  /** True while the informer's list + watch run. */
  synced = false;

  constructor(private readonly o: ImageWatchSourceOptions) {}

  /** The valid ImageWatches as watches (what WatcherDeps.resourceWatches returns). */
  watches(): ResourceWatch[] {
    const out: ResourceWatch[] = [];
    for (const e of this.byId.values()) if (e.watch) out.push(e.watch);
    return out;
  }

  /** The object behind a watch id, as last seen (its status included). */
  object(id: string): ImageWatchObject | undefined {
    return this.byId.get(id)?.obj;
  }

  get size(): number {
    return this.byId.size;
  }

  start(): void {
    const { k8s, config } = this.o.kube;
    const api = config.makeApiClient(k8s.CustomObjectsApi);
    const list = () =>
      withDeadline(
        api.listClusterCustomObject({ group: IMAGE_WATCH_GROUP, version: IMAGE_WATCH_VERSION, plural: IMAGE_WATCH_PLURAL }) as Promise<{ items: ImageWatchObject[]; metadata?: { resourceVersion?: string } }>,
        LIST_TIMEOUT_MS,
        'listing ImageWatches',
      ).then((l) => {
        this.onListed();
        return l as never;
      });
    const informer = k8s.makeInformer<KubernetesObject>(config, PATH, list);
    informer.on('add', (obj) => this.put(obj as ImageWatchObject));
    informer.on('update', (obj) => this.put(obj as ImageWatchObject));
    informer.on('delete', (obj) => this.drop(obj as ImageWatchObject));
    informer.on('error', (err: unknown) => this.onError(err));
    this.informer = informer;
    void informer.start().catch((e: unknown) => this.onError(e));
  }

  private onListed(): void {
    this.attempts = 0;
    this.synced = true;
    if (this.saidNoCrd) this.o.logger.info('ImageWatch CRD found: following ImageWatch objects');
    this.saidNoCrd = false;
    this.firstListed();
  }

  private onError(err: unknown): void {
    this.synced = false;
    this.firstListed();
    if (this.closed) return;
    const status = statusCodeOf(err);
    let delay: number;
    if (status === 404) {
      delay = this.o.noCrdRetryMs ?? NO_CRD_RETRY_MS;
      if (!this.saidNoCrd) {
        this.o.logger.warn(
          { hint: 'kubectl apply -f deploy/crds/imagewatches.ferry.io.yaml (or kubernetes.imageWatches: off)' },
          `the ImageWatch CRD (${IMAGE_WATCH_PLURAL}.${IMAGE_WATCH_GROUP}) is not installed: ImageWatch objects are not followed; looking again every ${Math.round(delay / 1000)} s`,
        );
        this.saidNoCrd = true;
      }
    } else {
      this.attempts++;
      delay = backoffDelay(this.attempts, { initialMs: this.o.restartBackoffMs ?? 1000, maxMs: 60_000, jitter: 'equal' });
      const hint = status === 403 ? ' (RBAC: the watch role needs imagewatches get/list/watch, see deploy/base/rbac.yaml)' : '';
      this.o.logger.warn({ err: String(err), status, retryInMs: delay }, `ImageWatch list/watch failed${hint}; the watches it defined keep running, restarting`);
    }
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (!this.closed) void this.informer?.start().catch((e: unknown) => this.onError(e));
    }, delay);
    this.restartTimer.unref();
  }

  private put(obj: ImageWatchObject): void {
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name;
    if (!ns || !name) return;
    const id = imageWatchId(ns, name);
    const key = JSON.stringify([obj.metadata?.uid, obj.metadata?.generation, obj.spec]);
    const before = this.byId.get(id);
    if (before && before.key === key) {
      before.obj = obj; // a status write (ours, most likely): nothing to do but keep the latest object
      return;
    }
    const parsed = parseImageWatch(obj, ns);
    this.byId.set(id, { obj, key, watch: parsed.ok ? parsed.watch : undefined });
    if (parsed.ok) {
      this.o.onChange();
      const observed = (obj.status as { observedGeneration?: unknown } | undefined)?.observedGeneration;
      // new or edited since its status was written, or edited while followed (the first list after a restart polls nothing extra)
      if (observed === undefined || observed !== obj.metadata?.generation || before !== undefined) this.o.onSpecChange(id, parsed.watch);
      return;
    }
    if (before?.watch) {
      this.o.onChange();
      this.o.onRemoved(id);
    }
    this.o.logger.warn({ imageWatch: `${ns}/${name}`, problems: parsed.problems }, 'ImageWatch spec is invalid: not watched');
    this.o.onInvalid(obj, parsed.problems);
  }

  private drop(obj: ImageWatchObject): void {
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name;
    if (!ns || !name) return;
    const id = imageWatchId(ns, name);
    const before = this.byId.get(id);
    if (!before) return;
    this.byId.delete(id);
    if (before.watch) {
      this.o.logger.info({ imageWatch: `${ns}/${name}`, watch: id }, 'ImageWatch deleted: watch stopped');
      this.o.onChange();
      this.o.onRemoved(id);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.firstListed();
    await this.informer?.stop();
  }
}

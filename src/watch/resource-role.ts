/**
 * The watch role's ImageWatch part: the informer (resource-watches.ts) feeding
 * the watcher's `resourceWatches`, and the status writer (resource-status.ts)
 * fed by the watcher's `polled` and `retained` events. Started when a cluster
 * is configured and `kubernetes.imageWatches` is not `off`. Several watch
 * replicas each follow every ImageWatch; a spec edit is polled by one of them
 * (a Redis SET NX per object generation), and the replica that ran a poll
 * writes the status it produced.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { describeError } from '../errors.js';
import { createEventRecorder, type EventRecorder, type EventRecorderLike, type KubeClient } from '../kube/index.js';
import type { RoleContext } from '../runtime/index.js';
import type { ResourceWatch } from './definition.js';
import { ImageWatchStatusWriter } from './resource-status.js';
import { ImageWatchSource } from './resource-watches.js';
import type { Watcher } from './watcher.js';

/** How long the role waits for the first ImageWatch list before its first sync (so a restart does not drop and re-add their schedules). */
const FIRST_LIST_WAIT_MS = 10_000;
/** A generation's poll is claimed for this long (any replica that sees the edit later does not poll it again). */
const CLAIM_TTL_S = 24 * 3600;

export interface ImageWatches {
  source: ImageWatchSource;
  writer: ImageWatchStatusWriter;
  /** The valid ImageWatches as watches (WatcherDeps.resourceWatches). */
  watches(): readonly ResourceWatch[];
  /** Connects the watcher: changes seen so far are applied now, later ones as they come. */
  bind(watcher: Watcher): void;
  close(): Promise<void>;
}

export async function startImageWatches(ctx: RoleContext, clusterRecorder: EventRecorder | undefined): Promise<ImageWatches | undefined> {
  const logger = ctx.logger.child({ role: 'watch', part: 'imagewatches' });
  if (ctx.config().kubernetes.imageWatches === 'off') {
    logger.info('kubernetes.imageWatches: off: ImageWatch objects are not followed');
    return undefined;
  }
  let kube: KubeClient | undefined;
  try {
    kube = await ctx.kube();
  } catch (e) {
    logger.warn({ err: describeError(e) }, 'cannot load the Kubernetes client config: ImageWatch objects are not followed here');
    return undefined;
  }
  if (!kube) return undefined; // no cluster: the cluster view said so
  const ownRecorder = clusterRecorder ? undefined : createEventRecorder(kube, ctx.logger);
  const recorder: EventRecorderLike | undefined = clusterRecorder ?? ownRecorder;

  let watcher: Watcher | undefined;
  /** What happened before bind(): applied there. */
  let dirty = false;
  const specChanged = new Map<string, ResourceWatch>();
  const removed = new Set<string>();
  const redis: Redis = ctx.connection;

  const sync = (w: Watcher) => void w.sync().catch((e) => logger.error({ err: describeError(e) }, 'applying ImageWatch changes failed'));
  const pollEdited = (w: Watcher, id: string, rw: ResourceWatch) =>
    void (async () => {
      await w.sync(); // the new spec is in the schedules before it is polled
      // the spec's hash too: an API server that sets no generation (or a re-created object) still gets its edit polled
      const spec = createHash('sha256').update(JSON.stringify(rw.config)).digest('hex').slice(0, 12);
      const claim = w.state.k.specPolled(id, `${rw.resource.uid ?? ''}:${rw.resource.generation ?? ''}:${spec}`);
      if ((await redis.set(claim, '1', 'EX', CLAIM_TTL_S, 'NX')) !== 'OK') return; // another replica polls it
      await w.poll(id, 'api', 'defer');
    })().catch((e) => logger.error({ watch: id, err: describeError(e) }, 'polling an edited ImageWatch failed'));
  const forget = (w: Watcher, id: string) =>
    void (async () => {
      await w.state.forget(id); // as DELETE /api/watches/<id>: status and cache go, events and holdings stay
      await w.scheduler.cancelRetry(id);
    })().catch((e) => logger.warn({ watch: id, err: describeError(e) }, 'forgetting a deleted ImageWatch failed'));

  const source = new ImageWatchSource({
    kube,
    logger,
    onChange: () => (watcher ? sync(watcher) : (dirty = true)),
    onSpecChange: (id, rw) => {
      removed.delete(id);
      if (watcher) pollEdited(watcher, id, rw);
      else specChanged.set(id, rw);
    },
    onRemoved: (id) => {
      writer.forget(id);
      specChanged.delete(id);
      if (watcher) forget(watcher, id);
      else removed.add(id);
    },
    onInvalid: (obj, problems) => writer.onInvalid(obj, problems),
  });
  const writer = new ImageWatchStatusWriter({
    kube,
    logger,
    recorder: () => (ctx.config().kubernetes.events ? recorder : undefined),
    object: (id) => source.object(id),
    state: async (id) => {
      const rw = source.watches().find((w) => w.config.id === id);
      if (!rw || !watcher) return undefined;
      if ((await watcher.find(id))?.source !== 'resource') return undefined; // a file or API watch of the same id won: not this object's status
      const [status, held] = await Promise.all([watcher.state.status(id), watcher.state.held(id)]);
      return { status, held, schedule: rw.config.schedule };
    },
  });
  source.start();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([source.firstList, new Promise<void>((resolve) => (timer = setTimeout(resolve, FIRST_LIST_WAIT_MS)))]);
  clearTimeout(timer);
  logger.info({ cluster: kube.server, imageWatches: source.watches().length, synced: source.synced }, source.synced ? 'following ImageWatch objects' : 'ImageWatch list not done yet: their watches start when it lands');
  ctx.addReadiness('imageWatches', async () => ({ ok: true, detail: source.synced ? `${source.watches().length} ImageWatch watches (${source.size} objects)` : 'ImageWatch list/watch not running (see the logs)' }));

  return {
    source,
    writer,
    watches: () => source.watches(),
    bind(w) {
      watcher = w;
      w.on('polled', (r: Parameters<ImageWatchStatusWriter['onPolled']>[0]) => writer.onPolled(r));
      w.on('retained', (r: { id: string }) => writer.onRetained(r.id));
      for (const id of removed) forget(w, id);
      for (const [id, rw] of specChanged) pollEdited(w, id, rw);
      if (dirty && !specChanged.size) sync(w);
      removed.clear();
      specChanged.clear();
    },
    async close() {
      await source.close();
      await writer.idle();
      await ownRecorder?.close();
    },
  };
}

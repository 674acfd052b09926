/**
 * `ferry watch` (also inside `ferry all`): scheduled upstream polling,
 * re-mirroring of moved/new tags, retention, push notifications and the
 * watch API. See docs/watch.md.
 */
import type { Role, RoleContext, StartRole } from '../runtime/index.js';
import { describeError } from '../errors.js';
import { Notifier, notifyWatchChanges } from '../notify/index.js';
import { startClusterView, type ClusterView } from './cluster.js';
import { Maintenance } from './maintenance.js';
import { startImageWatches, type ImageWatches } from './resource-role.js';
import { watchRoutes } from './routes.js';
import { Watcher } from './watcher.js';

export interface WatchRole extends Role {
  watcher: Watcher;
  maintenance: Maintenance;
  /** Pods, the in-use index and Events; undefined without a cluster. */
  cluster: ClusterView | undefined;
  /** ImageWatch objects as watches, and their status; undefined without a cluster or with kubernetes.imageWatches: off. */
  imageWatches: ImageWatches | undefined;
}

export const startWatch: StartRole = async (ctx: RoleContext): Promise<WatchRole> => {
  const engine = ctx.registry();
  const cluster = await startClusterView(ctx);
  const inUse = cluster?.inUse;
  const imageWatches = await startImageWatches(ctx, cluster?.recorder);
  const watcher = new Watcher({
    config: ctx.config,
    redis: ctx.connection,
    workerConnection: ctx.redis('watch-worker'),
    subscriber: ctx.redis('watch-events'),
    store: ctx.store,
    producer: ctx.producer,
    engine,
    logger: ctx.logger,
    mirrorRefOf: ctx.mirrorRefOf,
    inUse,
    ...(imageWatches ? { resourceWatches: () => imageWatches.watches() } : {}),
  });
  // `notify:` receivers: tagMoved from polls here, drifted from refresh runs; the worker role delivers them.
  const notifier = new Notifier({ connection: ctx.connection, config: () => ctx.config() });
  const stopNotify = notifyWatchChanges(watcher, notifier, (e, r) => ctx.logger.warn({ err: describeError(e), watch: r.id }, 'notify: could not queue the tagMoved event'));
  const maintenance = new Maintenance({
    config: ctx.config,
    redis: ctx.connection,
    workerConnection: ctx.redis('maintenance-worker'),
    store: ctx.store,
    producer: ctx.producer,
    engine,
    inUse,
    logger: ctx.logger,
    mirrorRefOf: ctx.mirrorRefOf,
    notifier,
  });
  const logger = ctx.logger.child({ role: 'watch' });
  await ctx.http.register(watchRoutes(watcher, () => ctx.config(), logger, maintenance));
  ctx.onConfigChange((next, prev) => {
    if (prev.hooks.secret && !next.hooks.secret) {
      logger.warn('hooks.secret was removed: POST /hooks/registry now takes dashboard.token, or loopback callers only without one');
    }
    void watcher.onConfigChange().catch((e) => ctx.logger.error({ err: describeError(e) }, 'watch: applying the new config failed'));
    void maintenance.sync().catch((e) => ctx.logger.error({ err: describeError(e) }, 'maintenance: applying the new config failed'));
  });
  ctx.addReadiness('watch', async () => {
    const running = watcher.scheduler.worker?.isRunning() ?? false;
    return { ok: running, detail: running ? 'scheduler worker running' : 'scheduler worker stopped' };
  });
  await watcher.start();
  imageWatches?.bind(watcher);
  await maintenance.start();
  return {
    name: 'watch',
    watcher,
    maintenance,
    cluster,
    imageWatches,
    async close() {
      await Promise.all([watcher.close(), maintenance.close()]);
      stopNotify();
      await notifier.close();
      await imageWatches?.close(); // after the watcher: the statuses of its last polls are written
      await cluster?.close();
    },
  };
};

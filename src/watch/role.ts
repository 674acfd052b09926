/**
 * `ferry watch` (also inside `ferry all`): scheduled upstream polling,
 * re-mirroring of moved/new tags, retention, push notifications and the
 * watch API. See docs/watch.md.
 */
import type { Role, RoleContext, StartRole } from '../runtime/index.js';
import { describeError } from '../errors.js';
import { startClusterView, type ClusterView } from './cluster.js';
import { Maintenance } from './maintenance.js';
import { watchRoutes } from './routes.js';
import { Watcher } from './watcher.js';


export interface WatchRole extends Role {
  watcher: Watcher;
  maintenance: Maintenance;
  /** Pods, the in-use index and Events; undefined without a cluster. */
  cluster: ClusterView | undefined;
}

export const startWatch: StartRole = async (ctx: RoleContext): Promise<WatchRole> => {
  const engine = ctx.registry();
  const cluster = await startClusterView(ctx);
  const inUse = cluster?.inUse;
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
  });
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
  await maintenance.start();
  return {
    name: 'watch',
    watcher,
    maintenance,
    cluster,
    async close() {
      await Promise.all([watcher.close(), maintenance.close()]);
      await cluster?.close();
    },
  };
};

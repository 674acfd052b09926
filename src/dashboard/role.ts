import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import { httpBindPlan } from '../access/index.js';
import type { FerryConfig } from '../config/index.js';
import type { Role, RoleContext, StartRole } from '../runtime/index.js';
import { describeError } from '../errors.js';
import { InUseStore } from '../in-use/index.js';
import { closeSharedQueue, createQueue } from '../queue/index.js';
import { registerApi, type Stats } from './api.js';
import { Live } from './live.js';
import { registerNodesApi } from './nodes.js';
import { resolveStaticDir } from './static-dir.js';
import { Usage } from './usage.js';

/**
 * The address the root must bind dashboard.port to: without a token nobody
 * may reach the mutating API from elsewhere, so loopback only (the root's
 * own rule for every role mix, src/access/bind.ts).
 */
export function dashboardBindHost(config: FerryConfig): string {
  return httpBindPlan(config, ['dashboard']).host;
}

export interface DashboardOptions {
  /** Override the static folder (default: resolveStaticDir()). */
  staticDir?: string;
  heartbeatMs?: number;
  statsMs?: number;
  /** Mount bull-board at /queues (default true). */
  bullBoard?: boolean;
  /** How long start waits for the first load of the image index before going on without it (default 3 s). */
  startWaitMs?: number;
  /** Bytes an SSE client may leave unread before it is dropped (default 1 MiB, see Live). */
  sseMaxBufferedBytes?: number;
  /** How long the answer to "does ferry see the cluster?" is reused across pages (default 5 s; tests use 0). */
  clusterViewCacheMs?: number;
}

export interface DashboardRole extends Role {
  live: Live;
}

/**
 * `ferry dashboard`: the page at `/`, its assets at `/assets/`, the JSON API
 * at `/api/`, bull-board (read-only) at `/queues`, all on the shared
 * `ctx.http` app. Listening is the root's job (see `dashboardBindHost`).
 */
export async function createDashboard(ctx: RoleContext, opts: DashboardOptions = {}): Promise<DashboardRole> {
  const logger = ctx.logger.child({ role: 'dashboard' });
  const config = ctx.config();
  if (!config.dashboard.token) {
    logger.warn(
      { bind: '127.0.0.1', port: config.dashboard.port, ...(config.dashboard.host !== '127.0.0.1' ? { ignoredHost: config.dashboard.host } : {}) },
      'dashboard.token is empty: the dashboard and its API listen on 127.0.0.1 only and accept changes without a token; set dashboard.token (FERRY_DASHBOARD_TOKEN) to expose it',
    );
  }
  ctx.onConfigChange((next, prev) => {
    if (prev.dashboard.token && !next.dashboard.token) {
      logger.warn('dashboard.token was removed: mutating API calls are now accepted from loopback callers only (restart to rebind to 127.0.0.1)');
    }
  });

  const staticDir = opts.staticDir ?? resolveStaticDir();
  const indexHtml = await readFile(join(staticDir, 'index.html'));
  const queue = createQueue(ctx.connection, config.queue.prefix);
  queue.on('error', (e) => logger.debug({ err: describeError(e) }, 'dashboard queue connection error'));

  // The in-use index the pod tracker (watch role, any replica) writes; read here for usedBy and /pods.
  const usage = new Usage({
    store: new InUseStore(ctx.connection, config.queue.prefix),
    redisReady: () => ctx.connection.status === 'ready',
    ...(opts.clusterViewCacheMs !== undefined ? { cacheMs: opts.clusterViewCacheMs } : {}),
  });

  let live: Live;
  const stats = async (): Promise<Stats> => {
    const counts = live.index.counts();
    let q: Stats['queue'] = null;
    let queueError: string | undefined;
    try {
      // BullMQ waits for Redis forever (maxRetriesPerRequest: null): bound it, the page polls again anyway.
      let timer: NodeJS.Timeout | undefined;
      const c = await Promise.race([
        queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized', 'completed'),
        new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error('Redis did not answer within 1.5 s')), 1500))),
      ]).finally(() => clearTimeout(timer));
      q = {
        waiting: c.waiting ?? 0,
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        failed: c.failed ?? 0,
        prioritized: c.prioritized ?? 0,
        completed: c.completed ?? 0,
      };
    } catch (e) {
      queueError = describeError(e);
    }
    return {
      counts,
      total: live.index.size,
      queue: q,
      ...(queueError ? { queueError } : {}),
      throughput: live.throughput.snapshot(),
      sseClients: live.clientCount,
      time: new Date().toISOString(),
    };
  };
  live = new Live({
    feed: ctx.records(),
    logger,
    stats,
    ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
    ...(opts.statsMs !== undefined ? { statsMs: opts.statsMs } : {}),
    ...(opts.sseMaxBufferedBytes !== undefined ? { maxBufferedBytes: opts.sseMaxBufferedBytes } : {}),
  });
  // Redis away at start must not hold up the other roles: wait a little, then fill the index in the background.
  const started = live.start().catch((e) => logger.error({ err: describeError(e) }, 'dashboard could not subscribe to image events'));
  let startTimer: NodeJS.Timeout | undefined;
  await Promise.race([started, new Promise((r) => (startTimer = setTimeout(r, opts.startWaitMs ?? 3000)))]);
  clearTimeout(startTimer);
  if (!live.index.loaded) {
    // a large index (100k records: ~12 s) is still loading from a Redis that answers: not a Redis problem
    if (ctx.connection.status === 'ready') logger.info('image index still loading: the first pages are read from Redis until it is in memory');
    else logger.warn('Redis is not answering yet: the dashboard starts without its image list and fills it once Redis is back');
  }
  ctx.addReadiness('dashboard', async () =>
    live.ready ? { ok: true, detail: `${live.index.size} images indexed` } : { ok: false, detail: 'image index not loaded / events not subscribed' },
  );

  const app = ctx.http;
  // Encapsulated: our error handler and static decorators stay out of other roles' routes.
  await app.register(async (scope: FastifyInstance) => {
    registerApi(scope, { ctx, live, usage, queue, stats });
    // After registerApi: its error handler (this scope's) answers for these routes too.
    registerNodesApi(scope, ctx);
    await scope.register(fastifyStatic, { root: staticDir, prefix: '/assets/', index: false, maxAge: '1h', decorateReply: false });
    const page = async (_req: unknown, reply: import('fastify').FastifyReply) =>
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header(
          'content-security-policy',
          "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        )
        .send(indexHtml);
    scope.get('/', page);
    scope.get('/index.html', page);
  });

  if (opts.bullBoard !== false) {
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath('/queues');
    createBullBoard({
      // Read-only: image records are ferry's truth; retries/removals go through /api so records and jobs stay in step.
      queues: [new BullMQAdapter(queue, { readOnlyMode: true, description: 'ferry copy jobs (read-only here: act on images from the ferry dashboard)' })],
      serverAdapter,
      options: { uiConfig: { boardTitle: 'ferry queue', miscLinks: [{ text: 'ferry dashboard', url: '/' }], hideDocsLink: true } },
    });
    await app.register(serverAdapter.registerPlugin() as never, { prefix: '/queues' });
  }

  app.addHook('preClose', async () => {
    // SSE streams are hijacked responses: end them or the server waits for them.
    await live.close();
  });

  logger.info({ records: live.index.size, staticDir }, 'dashboard ready: page at /, API at /api, queue board at /queues');

  return {
    name: 'dashboard',
    live,
    async close() {
      await live.close();
      // Queue.close waits for Redis; do not let an outage hold up shutdown.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closeSharedQueue(queue, ctx.connection).catch(() => {}), new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
    },
  };
}

export const startDashboard: StartRole = (ctx) => createDashboard(ctx);

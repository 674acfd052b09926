/**
 * A RoleContext from the composition root's own createContext (config,
 * Redis connections, ImageStore, Producer, the shared fastify app with the
 * ops routes), on a test config and a logger whose lines are kept, so tests
 * can start the dashboard role, and optionally a real worker pool, on it.
 */
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { Queue } from 'bullmq';
import { createContext } from '../../../src/runtime/index.js';
import type { RoleContext } from '../../../src/runtime/index.js';
import { DEFAULTS, type FerryConfig } from '../../../src/config/index.js';
import { createDashboard, dashboardBindHost, type DashboardOptions, type DashboardRole } from '../../../src/dashboard/index.js';
import { createLogger } from '../../../src/observability/index.js';
import { closeSharedQueue, createQueue, type CopyJobData } from '../../../src/queue/index.js';
import { RegistryEngine } from '../../../src/registry/index.js';
import { createWorkerPool, type WorkerPool } from '../../../src/worker/index.js';

export interface ContextOptions {
  redisUrl: string;
  /** Private key prefix per test (records, events channel, BullMQ). */
  prefix: string;
  /** Edits the config (DEFAULTS + test settings) before anything starts. */
  configure?: (c: FerryConfig) => void;
  logLevel?: string;
}

export interface TestContext extends RoleContext {
  /** Every log line (JSON) written so far. */
  logs: string[];
  /** A BullMQ queue handle on the context's queue, to look at jobs. */
  queue: Queue<CopyJobData>;
  close(): Promise<void>;
}

export function testConfig(o: ContextOptions): FerryConfig {
  const c: FerryConfig = structuredClone(DEFAULTS);
  c.queue = { ...c.queue, redisUrl: o.redisUrl, prefix: o.prefix, maxAttempts: 3, backoff: { initialMs: 200, maxMs: 2000 } };
  c.copy = { ...c.copy, platforms: [], requestsPerSecond: 0, timeoutMs: 10_000 };
  c.dashboard = { ...c.dashboard, port: 0 };
  c.log = { level: 'info' };
  o.configure?.(c);
  return c;
}

export function buildContext(o: ContextOptions): TestContext {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const logger: Logger = createLogger(o.logLevel ?? 'info', sink);
  const root = createContext({ config: testConfig(o), explicit: new Set(), file: undefined }, logger, {});
  const queue = createQueue(root.connection, root.config().queue.prefix);
  queue.on('error', () => {});
  return {
    ...root,
    logs,
    queue,
    async close() {
      // Sockets that never sent a request (undici/browser preconnects) would hold server.close() until the client drops them.
      root.http.server.closeAllConnections();
      await closeSharedQueue(queue, root.connection).catch(() => {});
      await root.close();
    },
  };
}

export interface Running {
  ctx: TestContext;
  dashboard: DashboardRole;
  /** http://127.0.0.1:port */
  url: string;
  /** Starts a real BullMQ worker pool (registry copy engine) on the same context. */
  startWorker(): WorkerPool;
  close(): Promise<void>;
}

/** Context + dashboard role, listening on a free port of dashboardBindHost(config) as the root would. */
export async function startDashboardApp(o: ContextOptions & { dashboard?: DashboardOptions }): Promise<Running> {
  const ctx = buildContext(o);
  const dashboard = await createDashboard(ctx, { statsMs: 500, ...o.dashboard });
  const address = await ctx.http.listen({ port: 0, host: dashboardBindHost(ctx.config()) });
  const pools: WorkerPool[] = [];
  const engines: RegistryEngine[] = [];
  return {
    ctx,
    dashboard,
    url: address.replace('0.0.0.0', '127.0.0.1'),
    startWorker() {
      const engine = new RegistryEngine({ config: ctx.config(), logger: ctx.logger, retries: 0 });
      engines.push(engine);
      const pool = createWorkerPool({
        connection: ctx.redis('worker'),
        store: ctx.store,
        config: ctx.config(),
        engine,
        logger: ctx.logger,
        producer: ctx.producer,
        mirrorRefOf: (ref) => ctx.mirrorRefOf(ref),
        workerOpts: { lockDuration: 5000, stalledInterval: 2000 },
        countsIntervalMs: 0,
        progressIntervalMs: 100,
      });
      pools.push(pool);
      return pool;
    },
    async close() {
      await Promise.all(pools.map((p) => p.close()));
      for (const e of engines) await e.close();
      await dashboard.close();
      await ctx.close();
    },
  };
}

/** `Authorization` header for a token. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * Starting long-running roles from the command line: one process, the roles
 * asked for, one shared HTTP app, graceful shutdown. Loaded by main.ts only
 * for commands that run roles, so `--help`, `check-config` and `copy` never
 * load BullMQ, fastify or the Kubernetes client.
 */
import type { Logger } from 'pino';
import { describeBindPlan, httpBindPlan, type HttpBindPlan } from '../access/index.js';
import { loadConfig, type LoadedConfig } from '../config/index.js';
import { describeError, isFerryError } from '../errors.js';
import { enableDefaultMetrics } from '../observability/index.js';
import { redactRedisUrl } from '../queue/index.js';
import { loadHostGateMetrics } from '../registry/index.js';
import { createContext, type Role, type RootContext } from '../runtime/index.js';
import { startLocalRedis, startLocalRegistry, type LocalService } from './local.js';

/** Process metrics (CPU, memory, event loop) on /metrics: every long-running role serves them. */
export const enableProcessMetrics = (): void => {
  enableDefaultMetrics();
  void loadHostGateMetrics();
};

export const ROLES = ['webhook', 'worker', 'dashboard', 'watch', 'import', 'agent'] as const;
export type RoleName = (typeof ROLES)[number];

/**
 * What `ferry all` runs: every role but the node agent, which needs the
 * node's container runtime socket (a DaemonSet on each node), not the
 * laptop or single VM `all` is for.
 */
export const ALL_ROLES: readonly RoleName[] = ROLES.filter((r) => r !== 'agent');

async function startRole(name: RoleName, ctx: RootContext): Promise<Role> {
  switch (name) {
    case 'webhook':
      return (await import('../webhook/index.js')).startWebhook(ctx);
    case 'worker':
      return (await import('../worker/index.js')).startWorker(ctx);
    case 'dashboard':
      return (await import('../dashboard/index.js')).startDashboard(ctx);
    case 'watch':
      return (await import('../watch/index.js')).startWatch(ctx);
    case 'import':
      return (await import('../import/index.js')).startImport(ctx);
    case 'agent':
      return (await import('../agent/index.js')).startAgent(ctx);
  }
}

/**
 * Where the shared HTTP app listens (see `httpBindPlan`): roles with mutating
 * routes (dashboard, watch) bind loopback only while no dashboard.token is
 * set, except the watch role alone with hooks.secret (registry notifications
 * from the cluster); health/metrics-only roles (worker, import, agent) bind
 * dashboard.host so probes and Prometheus can reach them.
 */
function bindPlan(ctx: RootContext, names: RoleName[]): HttpBindPlan {
  return httpBindPlan(ctx.config(), names);
}

export async function runRoles(names: RoleName[], loaded: LoadedConfig, env: NodeJS.ProcessEnv, logger: Logger, locals: LocalService[]): Promise<number> {
  const ctx = createContext(loaded, logger, env);
  const roles: Role[] = [];
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing or handing back in-flight work');
    // Workers wait up to 30 s for active copies; past 45 s something is stuck (e.g. Redis gone): exit anyway.
    setTimeout(() => {
      logger.error('shutdown took longer than 45 s; exiting now (in-flight jobs are recovered by BullMQ)');
      process.exit(1);
    }, 45_000).unref();
    for (const r of [...roles].reverse()) {
      await r.close().catch((e) => logger.error({ role: r.name, err: describeError(e) }, 'role did not close cleanly'));
    }
    await ctx.close();
    for (const l of locals) await l.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  try {
    for (const name of names) roles.push(await startRole(name, ctx));
    const onlyWebhook = names.length === 1 && names[0] === 'webhook';
    const urls: Record<string, string> = {};
    const webhook = roles.find((r) => r.name === 'webhook') as (Role & { url?: string; caFile?: string }) | undefined;
    if (webhook?.url) urls.webhook = `${webhook.url}/mutate`;
    if (webhook?.caFile) urls.webhookCA = webhook.caFile;
    if (!onlyWebhook) {
      const plan = bindPlan(ctx, names);
      const address = await ctx.http.listen({ port: ctx.config().dashboard.port, host: plan.host });
      logger.info({ bind: plan.host, reach: plan.reach }, describeBindPlan(plan, Number(new URL(address).port)));
      urls[names.includes('dashboard') ? 'dashboard' : 'ops'] = address;
    }
    urls.redis = redactRedisUrl(ctx.config().queue.redisUrl);
    urls.mirror = ctx.config().mirror.registry;
    logger.info({ roles: names, ...urls }, `ferry is up: ${Object.entries(urls).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    return await new Promise<number>(() => {});
  } catch (e) {
    logger.fatal({ err: describeError(e), code: isFerryError(e) ? e.code : undefined }, 'ferry failed to start');
    for (const r of [...roles].reverse()) await r.close().catch(() => {});
    await ctx.close().catch(() => {});
    for (const l of locals) await l.stop();
    return 1;
  }
}

/** `ferry all`: every role, with a local redis-server and registry for what the config does not name. */
export async function runAll(loaded: LoadedConfig, env: NodeJS.ProcessEnv, logger: Logger): Promise<number> {
  const locals: LocalService[] = [];
  const stateDir = env.FERRY_STATE_DIR ?? '.ferry';
  const overrides: Record<string, string> = {};
  try {
    if (!loaded.explicit.has('queue.redisUrl')) {
      const r = await startLocalRedis(stateDir, logger);
      locals.push(r);
      overrides.FERRY_QUEUE_REDIS_URL = r.address;
    }
    if (!loaded.explicit.has('mirror.registry')) {
      const r = await startLocalRegistry(stateDir, logger);
      locals.push(r);
      overrides.FERRY_MIRROR_REGISTRY = r.address;
    }
  } catch (e) {
    logger.fatal({ err: describeError(e) }, 'cannot start the local defaults');
    for (const l of locals) await l.stop();
    return 1;
  }
  const allEnv = { ...env, ...overrides };
  const withLocals = Object.keys(overrides).length ? { ...loadConfig(loaded.file, allEnv), file: loaded.file } : loaded;
  return runRoles([...ALL_ROLES], withLocals, allEnv, logger, locals);
}

/** `ferry import FILE...`: import once and exit. */
export async function runImportFiles(files: string[], loaded: LoadedConfig, env: NodeJS.ProcessEnv, logger: Logger): Promise<number> {
  const { runImportOnce } = await import('../import/index.js');
  const ctx = createContext(loaded, logger, env);
  try {
    return await runImportOnce(files, ctx, { mirror: ctx.registry() });
  } finally {
    await ctx.close();
  }
}

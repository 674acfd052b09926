#!/usr/bin/env node
/**
 * ferry's command line: argv -> the role(s) to start. Composition only; each
 * role lives in its own folder.
 */
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { describeBindPlan, httpBindPlan, type HttpBindPlan } from '../access/index.js';
import { loadConfig, maskSecrets, type LoadedConfig } from '../config/index.js';
import { describeError, isFerryError } from '../errors.js';
import { createLogger, defaultLogFormat, isLogFormat } from '../observability/index.js';
import { enableDefaultMetrics } from '../observability/index.js';
import { redactRedisUrl } from '../queue/index.js';
import { createContext, type Role, type RootContext } from '../runtime/index.js';
import { startLocalRedis, startLocalRegistry, type LocalService } from './local.js';

const ROLES = ['webhook', 'worker', 'dashboard', 'watch', 'import'] as const;
type RoleName = (typeof ROLES)[number];

const USAGE = `usage: ferry <command> [--config FILE] [--log-format json|pretty]

commands:
  all                 everything in one process (local default: starts redis-server
                      and a docker-registry mirror itself when none is configured)
  webhook             HTTPS admission endpoint (POST /mutate) + queue producer
  worker              copy workers (BullMQ consumers)
  dashboard           web UI + JSON API
  watch               scheduled upstream polling and retention
  import [FILE...]    push image tarballs into the mirror (watch import.dir, or import FILEs once)
  copy SRC DST        one-shot copy with the workers' engine
  check-config        validate the config (file + FERRY_* env) and print it

Config: --config FILE (YAML, hot-reloaded) or FERRY_CONFIG; every key can be set
with FERRY_<PATH> env vars, e.g. FERRY_QUEUE_REDIS_URL, FERRY_MIRROR_REGISTRY.
Logs: readable lines when stdout is a terminal, JSON lines otherwise;
--log-format (or FERRY_LOG_FORMAT) json|pretty chooses.`;

interface Args {
  command: string | undefined;
  config: string | undefined;
  logFormat: string | undefined;
  rest: string[];
}

export function parseArgs(argv: string[]): Args {
  const out: Args = { command: undefined, config: undefined, logFormat: undefined, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' || a === '-c') out.config = argv[++i];
    else if (a.startsWith('--config=')) out.config = a.slice('--config='.length);
    else if (a === '--log-format') out.logFormat = argv[++i];
    else if (a.startsWith('--log-format=')) out.logFormat = a.slice('--log-format='.length);
    else if (out.command === undefined && !a.startsWith('-')) out.command = a;
    else out.rest.push(a);
  }
  return out;
}

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
  }
}

/**
 * Where the shared HTTP app listens (see `httpBindPlan`): roles with mutating
 * routes (dashboard, watch) bind loopback only while no dashboard.token is
 * set, except the watch role alone with hooks.secret (registry notifications
 * from the cluster); health/metrics-only roles (worker, import) bind
 * dashboard.host so probes and Prometheus can reach them.
 */
function bindPlan(ctx: RootContext, names: RoleName[]): HttpBindPlan {
  return httpBindPlan(ctx.config(), names);
}

async function runRoles(names: RoleName[], loaded: LoadedConfig, env: NodeJS.ProcessEnv, logger: Logger, locals: LocalService[]): Promise<number> {
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

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const args = parseArgs(argv);
  if (!args.command || args.command === 'help' || args.rest.includes('--help') || args.rest.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return args.command ? 0 : 2;
  }
  const format = args.logFormat ?? env.FERRY_LOG_FORMAT ?? defaultLogFormat(process.stdout);
  if (!isLogFormat(format)) {
    process.stderr.write(`ferry: --log-format must be json or pretty, got "${format}"\n`);
    return 2;
  }
  const file = args.config ?? env.FERRY_CONFIG;
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(file ? resolve(file) : undefined, env);
  } catch (e) {
    process.stderr.write(`ferry: ${isFerryError(e) ? `${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}` : describeError(e) + '\n'}`);
    return 2;
  }
  const logger = createLogger(loaded.config.log.level, undefined, format);
  enableDefaultMetrics();
  switch (args.command) {
    case 'check-config':
      process.stdout.write(JSON.stringify(maskSecrets(loaded.config), null, 2) + '\n');
      return 0;
    case 'copy': {
      const { copyLogger, runCopy } = await import('./copy.js');
      return runCopy(args.rest, loaded.config, copyLogger(loaded.config.log.level));
    }
    case 'import':
      if (args.rest.length > 0) {
        const { runImportOnce } = await import('../import/index.js');
        const ctx = createContext(loaded, logger, env);
        try {
          return await runImportOnce(args.rest, ctx, { mirror: ctx.registry() });
        } finally {
          await ctx.close();
        }
      }
      return runRoles(['import'], loaded, env, logger, []);
    case 'all': {
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
      if (Object.keys(overrides).length) loaded = { ...loadConfig(loaded.file, allEnv), file: loaded.file };
      return runRoles([...ROLES], loaded, allEnv, logger, locals);
    }
    default:
      if ((ROLES as readonly string[]).includes(args.command)) return runRoles([args.command as RoleName], loaded, env, logger, []);
      process.stderr.write(`ferry: unknown command "${args.command}"\n${USAGE}\n`);
      return 2;
  }
}

const invokedDirectly = process.argv[1] && /(^|[\\/])(main\.(ts|js)|ferry)$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`ferry: ${describeError(e)}\n`);
      process.exit(1);
    },
  );
}

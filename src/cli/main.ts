#!/usr/bin/env node
/**
 * ferry's command line: argv -> the command or role(s) to run. Composition
 * only; each role lives in its own folder. What a command needs is imported
 * when it runs (`--help` loads nothing else; `copy` and `check-config` no
 * queue, HTTP server or Kubernetes client): start-up time is what users feel
 * first.
 */
import { resolve } from 'node:path';
import { describeError, isFerryError } from '../errors.js';

const ROLE_NAMES: readonly string[] = ['webhook', 'worker', 'dashboard', 'watch', 'import', 'agent'];

const USAGE = `usage: ferry <command> [--config FILE] [--log-format json|pretty]

commands:
  all                 every role but agent in one process (local default: starts
                      redis-server and a docker-registry mirror itself when none is configured)
  webhook             HTTPS admission endpoint (POST /mutate) + queue producer
  worker              copy workers (BullMQ consumers)
  dashboard           web UI + JSON API
  watch               scheduled upstream polling and retention
  import [FILE...]    push image tarballs into the mirror (watch import.dir, or import FILEs once)
  agent               node agent, one per node (DaemonSet; not part of \`all\`): pre-pull
                      agent.prepull through the node's CRI socket, import tarballs from
                      agent.importDir into the node's containerd, publish node state
  copy SRC DST        one-shot copy with the workers' engine
  check-config        validate the config (file + FERRY_* env) and print it
  check-config --resources FILE...
                      validate ImageWatch objects in YAML files (multi-document)

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

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const args = parseArgs(argv);
  const askedForHelp = args.command === 'help' || args.rest.includes('--help') || args.rest.includes('-h');
  if (!args.command || askedForHelp) {
    process.stdout.write(USAGE + '\n');
    // asked for: success; no command at all: a usage error
    return askedForHelp ? 0 : 2;
  }
  const format = args.logFormat ?? env.FERRY_LOG_FORMAT;
  if (format !== undefined && format !== 'json' && format !== 'pretty') {
    process.stderr.write(`ferry: --log-format must be json or pretty, got "${format}"\n`);
    return 2;
  }
  if (args.command !== 'check-config' && args.command !== 'copy' && args.command !== 'all' && !ROLE_NAMES.includes(args.command)) {
    process.stderr.write(`ferry: unknown command "${args.command}"\n${USAGE}\n`);
    return 2;
  }
  if (args.command === 'check-config' && (args.rest.includes('--resources') || args.rest.includes('-f'))) return checkResources(args.rest);
  const { describeRedisUrl, loadConfig, maskSecrets } = await import('../config/index.js');
  const file = args.config ?? env.FERRY_CONFIG;
  let loaded: Awaited<ReturnType<typeof loadConfig>>;
  try {
    loaded = loadConfig(file ? resolve(file) : undefined, env);
  } catch (e) {
    process.stderr.write(`ferry: ${isFerryError(e) ? `${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}` : describeError(e) + '\n'}`);
    return 2;
  }
  if (args.command === 'check-config') {
    process.stdout.write(JSON.stringify(maskSecrets(loaded.config), null, 2) + '\n');
    // the connection ferry would open, in words (no ioredis loaded: parsing only)
    try {
      process.stderr.write(`redis: ${describeRedisUrl(loaded.config.queue.redisUrl)}\n`);
    } catch (e) {
      process.stderr.write(`ferry: ${isFerryError(e) ? `${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}` : describeError(e) + '\n'}`);
      return 2;
    }
    return 0;
  }
  if (args.command === 'copy') {
    const { copyLogger, runCopy } = await import('./copy.js');
    return runCopy(args.rest, loaded.config, await copyLogger(loaded.config.log.level));
  }
  const [{ createLogger, defaultLogFormat }, roles] = await Promise.all([import('../logging/index.js'), import('./roles.js')]);
  const logger = createLogger(loaded.config.log.level, undefined, format ?? defaultLogFormat(process.stdout));
  roles.enableProcessMetrics();
  if (args.command === 'all') return roles.runAll(loaded, env, logger);
  if (args.command === 'import' && args.rest.length > 0) return roles.runImportFiles(args.rest, loaded, env, logger);
  return roles.runRoles([args.command as (typeof roles.ROLES)[number]], loaded, env, logger, []);
}

/** `check-config --resources FILE...` (or `-f FILE`, repeatable): 0 when every ImageWatch is valid, 1 on problems, 2 without files. */
async function checkResources(rest: string[]): Promise<number> {
  const files = rest.filter((a) => a !== '--resources' && a !== '-f');
  const unknown = files.filter((a) => a.startsWith('-'));
  if (unknown.length || files.length === 0) {
    process.stderr.write(`ferry: check-config --resources takes YAML files${unknown.length ? `, not ${unknown.join(' ')}` : ''}\n`);
    return 2;
  }
  const { checkImageWatchFiles, describeResourceCheck } = await import('../watch/index.js');
  const check = await checkImageWatchFiles(files); // named as given, in every line said about them
  process.stderr.write(describeResourceCheck(check).join('\n') + '\n');
  return check.reports.length ? 1 : 0;
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

import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { loadConfig, watchConfigFile, type ConfigFileWatcher, type FerryConfig, type LoadedConfig } from '../config/index.js';
import { describeError } from '../errors.js';
import { addOpsRoutes, createHttpApp, type ReadinessCheck } from '../observability/index.js';
import { closeSharedQueue, connectRedis, createQueue, ImageStore, Producer, RecordFeed, redactRedisUrl, StateView } from '../queue/index.js';
import { connectKube, type KubeClient } from '../kube/index.js';
import { toMirrorReference } from '../reference/index.js';
import { RegistryEngine } from '../registry/index.js';
import type { RoleContext } from './role.js';

export interface RootContext extends RoleContext {
  close(): Promise<void>;
}

/**
 * The composition root's shared pieces: config (hot-reloaded), Redis
 * connections, image store, producer, the shared HTTP app. Built once per
 * process, whatever roles run in it.
 */
export function createContext(loaded: LoadedConfig, logger: Logger, env: NodeJS.ProcessEnv): RootContext {
  let current: FerryConfig = loaded.config;
  const listeners: ((next: FerryConfig, prev: FerryConfig) => void)[] = [];
  const connections: Redis[] = [];
  let lastRedisError = 0;
  const redis = (name: string): Redis => {
    const r = connectRedis(current.queue.redisUrl, { connectionName: `ferry-${name}` });
    r.on('error', (e: Error) => {
      // One line per 10 s per process is enough to say Redis is away.
      if (Date.now() - lastRedisError > 10_000) {
        lastRedisError = Date.now();
        logger.warn({ redis: redactRedisUrl(current.queue.redisUrl), err: e.message }, 'Redis connection error; retrying');
      }
    });
    connections.push(r);
    return r;
  };
  const connection = redis('main');
  const store = new ImageStore(connection, current.queue.prefix);
  const queue = createQueue(connection, current.queue.prefix);
  queue.on('error', () => {});
  const producer = new Producer({
    store,
    queue,
    maxAttempts: () => current.queue.maxAttempts,
    bufferLimit: current.webhook.bufferLimit,
    logger,
  });
  let feed: RecordFeed | undefined;
  let view: Promise<StateView> | undefined;
  const records = (): RecordFeed =>
    (feed ??= new RecordFeed(store, redis('records'), (e) => logger.warn({ err: describeError(e) }, 'image records reload failed')));
  let engine: RegistryEngine | undefined;
  let kube: Promise<KubeClient | undefined> | undefined;
  const checks = new Map<string, ReadinessCheck>([
    ['redis', async () => ({ ok: (await connection.ping()) === 'PONG' })],
    ['config', async () => ({ ok: true, detail: loaded.file ?? 'defaults + environment' })],
  ]);
  const http = createHttpApp(logger);
  addOpsRoutes(http, { checks });

  let watcher: ConfigFileWatcher | undefined;
  if (loaded.file) {
    watcher = watchConfigFile(
      loaded.file,
      (next) => {
        const prev = current;
        current = next.config;
        logger.info({ file: loaded.file }, 'config reloaded');
        engine?.updateConfig(current);
        for (const l of listeners) {
          try {
            l(current, prev);
          } catch (e) {
            logger.error({ err: describeError(e) }, 'config change listener failed');
          }
        }
      },
      (message) => logger.error({ file: loaded.file, problems: message }, 'new config is invalid; keeping the previous one'),
      { env, initial: loaded.config },
    );
  }

  return {
    config: () => current,
    onConfigChange: (l) => listeners.push(l),
    loaded,
    logger,
    redis,
    connection,
    store,
    producer,
    records,
    stateView() {
      view ??= (async () => {
        const v = new StateView(records());
        await records().start();
        return v;
      })();
      return view;
    },
    registry() {
      engine ??= new RegistryEngine({ config: current, logger: logger.child({ component: 'registry' }) });
      return engine;
    },
    kube: () => (kube ??= connectKube(env)),
    mirrorRefOf: (ref) => toMirrorReference(ref, { registry: current.mirror.registry, prefix: current.mirror.prefix }),
    http,
    addReadiness: (name, check) => checks.set(name, check),
    readiness: { checks },
    async close() {
      watcher?.close();
      await producer.close().catch(() => {});
      // Each step may wait on Redis; when Redis is the thing that is down, move on.
      if (feed) await bounded(feed.close());
      await bounded(http.close());
      await bounded(closeSharedQueue(queue, connection));
      if (engine) await bounded(engine.close());
      for (const c of connections) c.disconnect();
    },
  };
}

/** Resolves when `p` settles or after `ms`, whichever comes first; never rejects. */
function bounded(p: Promise<unknown>, ms = 3000): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
    p.then(
      () => (clearTimeout(t), resolve()),
      () => (clearTimeout(t), resolve()),
    );
  });
}

import { createRequire } from 'node:module';
import type { ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { isClusterRedisUrl, parseClusterUrl, redisOptions } from '../config/index.js';

// the URL forms and their parsing live with the config (src/config/redis-url.ts)
export { describeRedisUrl, isClusterRedisUrl, parseClusterUrl, redactRedisUrl, redisOptions, type ClusterUrl } from '../config/index.js';


/**
 * ioredis (~40 ms to load) only when a connection is made: check-config can
 * describe the URL (describeRedisUrl) without it. ioredis is CommonJS, so this
 * is the same module instance an `import` (BullMQ's) gets.
 */
const requireHere = createRequire(import.meta.url);
function ioredis(): typeof import('ioredis') {
  return requireHere('ioredis') as typeof import('ioredis');
}

/**
 * ioredis Cluster options: `extra` (connectionName, ...) applies to every
 * node connection. BullMQ reads `maxRetriesPerRequest` from `redisOptions`
 * on a Cluster, so it is null there.
 */
export function clusterOptions(url: string, extra: RedisOptions = {}): { nodes: ClusterNode[]; options: ClusterOptions } {
  const c = parseClusterUrl(url);
  const redisOptions: RedisOptions = {
    maxRetriesPerRequest: null,
    ...(c.username ? { username: c.username } : {}),
    ...(c.password ? { password: c.password } : {}),
    ...(c.tls ? { tls: {} } : {}),
    ...extra,
  };
  return { nodes: c.seeds, options: { redisOptions, enableReadyCheck: true, lazyConnect: false } };
}

/**
 * A connection to `queue.redisUrl`: an ioredis `Redis`, or for
 * `redis+cluster://` an ioredis `Cluster` typed as `Redis`.
 *
 * Why the cast rather than a `Redis | Cluster` union through the codebase:
 * about twenty files take a connection, and a union of two overloaded command
 * interfaces (RedisCommander<default> vs <cluster> contexts) makes most calls
 * uncallable in TypeScript without narrowing that means nothing at run time.
 * Everything ferry calls on a connection exists on both with the same
 * meaning (keyed commands, pipeline/multi, defineCommand + the scripts,
 * publish/subscribe and the `message`/`ready`/`error` events, `status`,
 * ping, duplicate, quit/disconnect); test/queue/redis-cluster.test.ts runs
 * the real roles on a real cluster. What differs on a cluster is routing:
 * a keyless command (a script with numberOfKeys 0, SCAN, KEYS) goes to a
 * random node, so ferry must not use those for its data; keyed commands
 * find their slot, and with a hash-tagged `queue.prefix` every key shares one
 * slot, so scripts, MULTI and pipelines never cross slots.
 */
export function connectRedis(url: string, extra: RedisOptions = {}): Redis {
  const { Redis: RedisClient, Cluster } = ioredis();
  if (isClusterRedisUrl(url)) {
    const { nodes, options } = clusterOptions(url, extra);
    return new Cluster(nodes, options) as unknown as Redis;
  }
  return new RedisClient({ ...redisOptions(url), ...extra });
}

/** One PING to a loopback redis-server on `port`, without retries: true once it answers. */
export async function redisAnswers(port: number, password?: string): Promise<boolean> {
  const r = new (ioredis().Redis)({ port, host: '127.0.0.1', ...(password ? { password } : {}), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } finally {
    r.disconnect();
  }
}

/**
 * Resolves once `conn` finished its handshake: call before SUBSCRIBE on a new
 * connection. ioredis writes SUBSCRIBE at once while a connection is still in
 * it (status `connect`: the command carries the `loading` flag), ahead of
 * the ready check's INFO, which Redis then refuses in subscriber mode; the
 * check fails, the connection starts over and does the same again, so the
 * subscriber never gets going (seen in bench/records).
 */
export async function whenReady(conn: Redis): Promise<void> {
  if (conn.status === 'ready') return;
  await new Promise<void>((resolve) => conn.once('ready', () => resolve()));
}

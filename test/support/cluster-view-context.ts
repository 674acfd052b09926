/**
 * The part of a RoleContext `startClusterView` (src/watch/cluster.ts) reads,
 * for tests that start the watch role's cluster view alone: a fixed config,
 * the given client, Redis connections closed at teardown, an empty feed.
 */
import type { Test } from 'tap';
import type { FerryConfig } from '../../src/config/index.js';
import type { KubeClient } from '../../src/kube/index.js';
import { createLogger } from '../../src/observability/index.js';
import { connectRedis } from '../../src/queue/index.js';
import type { RoleContext } from '../../src/runtime/index.js';

export function clusterViewContext(t: Test, opts: { config: FerryConfig; kube: KubeClient | undefined; redisUrl: string }): RoleContext {
  const conns: ReturnType<typeof connectRedis>[] = [];
  t.teardown(() => conns.forEach((c) => c.disconnect()));
  const redisConn = () => {
    const c = connectRedis(opts.redisUrl);
    conns.push(c);
    return c;
  };
  return {
    config: () => opts.config,
    logger: createLogger('silent'),
    kube: async () => opts.kube,
    redis: redisConn,
    connection: redisConn(),
    records: () => ({ start: async () => {}, get: () => undefined }),
    onConfigChange: () => {},
    addReadiness: () => {},
  } as unknown as RoleContext;
}

/**
 * Shared setup of the end-to-end watch tests (mirror.test.ts, keep.test.ts):
 * one redis-server, an upstream registry, a mirror and a mirror that refuses
 * deletes; plus the watch-config builder, the JSON API caller and the
 * `polled` / `retained` event waits those tests use.
 */
import type { WatchConfig } from '../../../src/config/index.js';
import type { PollReport, RetentionReport } from '../../../src/watch/index.js';
import { startRedis, type TestRedis } from '../../support/redis.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { cleanupLayouts, nextEvent } from './env.js';

const YEARLY = '0 0 1 1 *';

export interface E2E {
  redis: TestRedis;
  upstream: TestRegistry;
  mirror: TestRegistry;
  /** A mirror with deletes disabled. */
  refusing: TestRegistry;
  /** A semver watch on `upstream/repo`, polled yearly (tests poll it themselves). */
  watch(id: string, repo: string, extra: Partial<WatchConfig>): WatchConfig;
  /** Stops the processes and removes the built image layouts. */
  stop(): Promise<void>;
}

export async function startE2E(): Promise<E2E> {
  const [redis, upstream, mirror, refusing] = await Promise.all([startRedis(), startRegistry(), startRegistry(), startRegistry({ deleteEnabled: false })]);
  return {
    redis,
    upstream,
    mirror,
    refusing,
    watch: (id, repo, extra) => ({
      id,
      image: `${upstream.host}/${repo}`,
      strategy: 'semver',
      schedule: YEARLY,
      ...extra,
    }),
    async stop() {
      await Promise.all([redis.stop(), upstream.stop(), mirror.stop(), refusing.stop()]);
      cleanupLayouts();
    },
  };
}

export async function api<T = any>(url: string, method = 'GET', body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export const polled = (w: { watcher: NodeJS.EventEmitter }, id: string, pred: (r: PollReport) => boolean = () => true) =>
  nextEvent<PollReport>(w.watcher, 'polled', (r) => r.id === id && pred(r));
export const retained = (w: { watcher: NodeJS.EventEmitter }, id: string, pred: (r: RetentionReport) => boolean) =>
  nextEvent<RetentionReport>(w.watcher, 'retained', (r) => r.id === id && pred(r));

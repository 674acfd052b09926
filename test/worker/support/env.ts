/** One redis-server and two registries (upstream + mirror) per test file, plus helpers to run pools. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import type { FerryConfig } from '../../../src/config/index.js';
import { connectRedis, createQueue, ImageStore, Producer, type CopyJobData } from '../../../src/queue/index.js';
import { RegistryEngine } from '../../../src/registry/index.js';
import { createWorkerPool, type WorkerPool, type WorkerPoolOptions } from '../../../src/worker/index.js';
import { startRedis, type TestRedis } from '../../support/redis.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { buildImage, pushImage, type BuiltImage } from '../../support/images.js';
import { EventLog } from './events.js';
import { testConfig } from './config.js';
import type { Job, Queue } from 'bullmq';

export const silent = pino({ level: 'silent' });

export interface Env {
  redis: TestRedis;
  upstream: TestRegistry;
  mirror: TestRegistry;
  layoutDir: string;
  /** Builds an image (random layers) and pushes it to upstream as `repo:tag`; returns its upstream ref. */
  push(repo: string, tag: string, layerSizes: number[]): Promise<{ ref: string; image: BuiltImage }>;
  mirrorRefOf(ref: string, host?: string): string;
  stop(): Promise<void>;
}

export async function startEnv(): Promise<Env> {
  const [redis, upstream, mirror] = await Promise.all([startRedis(), startRegistry(), startRegistry()]);
  const layoutDir = mkdtempSync(join(tmpdir(), 'ferry-worker-img-'));
  let n = 0;
  return {
    redis,
    upstream,
    mirror,
    layoutDir,
    async push(repo, tag, layerSizes) {
      const layout = join(layoutDir, `l${n++}`);
      const image = buildImage(layout, { tag, layerSizes });
      await pushImage(layout, tag, `${upstream.host}/${repo}:${tag}`);
      return { ref: `${upstream.host}/${repo}:${tag}`, image };
    },
    mirrorRefOf(ref, host = mirror.host) {
      // upstream host:port is not a valid repository path component: map it to "up"
      return `${host}/up/${ref.slice(ref.indexOf('/') + 1)}`;
    },
    async stop() {
      await Promise.all([redis.stop(), upstream.stop(), mirror.stop()]);
      rmSync(layoutDir, { recursive: true, force: true });
    },
  };
}

export interface Harness {
  config: FerryConfig;
  conn: Redis;
  store: ImageStore;
  queue: Queue<CopyJobData>;
  producer: Producer;
  events: EventLog;
  pools: WorkerPool[];
  engine: RegistryEngine;
  pool(o?: Partial<WorkerPoolOptions>): WorkerPool;
  enqueue(ref: string, opts?: { force?: boolean; mirrorRef?: string }): Promise<void>;
  close(): Promise<void>;
}

/** Producer + store + event log on a private prefix; `pool()` starts worker pools with short locks. */
export async function harness(env: Env, prefix: string, cfg: Partial<Parameters<typeof testConfig>[0]> = {}): Promise<Harness> {
  const config = testConfig({ mirror: env.mirror.host, prefix, ...cfg });
  const conn = connectRedis(env.redis.url);
  const store = new ImageStore(conn, prefix);
  const queue = createQueue(conn, prefix);
  const producer = new Producer({ store, queue, maxAttempts: () => h.config.queue.maxAttempts, bufferLimit: 10_000 });
  const events = await EventLog.start(env.redis.url, store.k.events);
  const engine = new RegistryEngine({ config, retries: 0 });
  const conns: Redis[] = [];
  const h: Harness = {
    config,
    conn,
    store,
    queue,
    producer,
    events,
    engine,
    pools: [],
    pool(o = {}) {
      const c = connectRedis(env.redis.url, { showFriendlyErrorStack: true });
      conns.push(c);
      const p = createWorkerPool({
        connection: c,
        store,
        config: h.config,
        engine,
        logger: silent,
        producer,
        mirrorRefOf: (ref) => env.mirrorRefOf(ref),
        workerOpts: { lockDuration: 2000, stalledInterval: 500 },
        countsIntervalMs: 0,
        ...o,
      });
      h.pools.push(p);
      return p;
    },
    async enqueue(ref, o = {}) {
      await producer.enqueueNow({ ref, mirrorRef: o.mirrorRef ?? env.mirrorRefOf(ref), source: 'api', force: o.force ?? false });
    },
    async close() {
      await Promise.all(h.pools.map((p) => p.close()));
      await producer.close();
      await queue.close();
      await events.close();
      await engine.close();
      for (const c of [...conns, conn]) c.disconnect();
    },
  };
  return h;
}

/** Resolves with the next job `pool` completes, or fails for good (no retry left), matching `pred`. */
export function jobDone(pool: WorkerPool, pred: (job: { data: CopyJobData }) => boolean = () => true, timeoutMs = 20_000): Promise<Job<CopyJobData>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no job finished within ${timeoutMs} ms`)), timeoutMs);
    const done = (job: Job<CopyJobData> | undefined) => {
      if (!job || !job.finishedOn || !pred(job)) return;
      clearTimeout(timer);
      pool.worker.off('completed', done);
      pool.worker.off('failed', done);
      resolve(job);
    };
    pool.worker.on('completed', done);
    pool.worker.on('failed', done);
  });
}

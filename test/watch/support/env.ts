/**
 * Watch test environment: one redis-server, real docker-registry processes
 * (upstream(s) and mirror(s)), and a harness per test: image store +
 * producer + a real copy worker pool + a Watcher + the routes on a fastify
 * app. Everything is awaited through events, never sleeps.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { DEFAULTS, type FerryConfig, type WatchConfig } from '../../../src/config/index.js';
import type { InUseStore } from '../../../src/in-use/index.js';
import { connectRedis, createQueue, decodeEvent, ImageStore, Producer, type ImageRecord } from '../../../src/queue/index.js';
import { toMirrorReference } from '../../../src/reference/index.js';
import { RegistryEngine } from '../../../src/registry/index.js';
import { Watcher, watchRoutes } from '../../../src/watch/index.js';
import { createWorkerPool, type WorkerPool } from '../../../src/worker/index.js';
import { buildImage, pushImage, type BuiltImage } from '../../support/images.js';
import type { TestRegistry } from '../../support/registry.js';

export const logger = pino({ level: process.env.FERRY_TEST_LOG ?? 'silent' });

let layouts: string | undefined;
let n = 0;

/** Builds a fresh image (random layer, given `created`) and pushes it as `host/repo:tag`. */
export async function push(reg: TestRegistry, repo: string, tag: string, created?: string): Promise<{ ref: string; image: BuiltImage }> {
  layouts ??= mkdtempSync(join(tmpdir(), 'ferry-watch-img-'));
  const layout = join(layouts, `l${n++}`);
  const image = buildImage(layout, { tag, layerSizes: [2048], ...(created ? { created } : {}) });
  await pushImage(layout, tag, `${reg.host}/${repo}:${tag}`);
  return { ref: `${reg.host}/${repo}:${tag}`, image };
}

export function cleanupLayouts(): void {
  if (layouts) rmSync(layouts, { recursive: true, force: true });
}

export function testConfig(o: { mirror: string; prefix: string; watch?: WatchConfig[]; token?: string; hooksSecret?: string }): FerryConfig {
  const c: FerryConfig = structuredClone(DEFAULTS);
  c.mirror = { registry: o.mirror, insecure: true, prefix: '' };
  c.queue = { ...c.queue, prefix: o.prefix, maxAttempts: 3, backoff: { initialMs: 50, maxMs: 1000 } };
  c.copy = { ...c.copy, platforms: [], requestsPerSecond: 0, timeoutMs: 10_000 };
  c.watch = o.watch ?? [];
  c.dashboard = { ...c.dashboard, token: o.token ?? '' };
  c.hooks = { secret: o.hooksSecret ?? '' };
  c.log = { level: 'silent' };
  return c;
}

/** Resolves with the first `name` event matching `pred` emitted from now on. */
export function nextEvent<T>(em: EventEmitter, name: string, pred: (v: T) => boolean = () => true, timeoutMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const seen: T[] = [];
    const on = (v: T) => {
      seen.push(v);
      if (!pred(v)) return;
      clearTimeout(timer);
      em.off(name, on);
      resolve(v);
    };
    const timer = setTimeout(() => {
      em.off(name, on);
      reject(new Error(`no matching "${name}" event within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`));
    }, timeoutMs);
    timer.unref();
    em.on(name, on);
  });
}

export interface HarnessOptions {
  redisUrl: string;
  mirror: TestRegistry;
  prefix: string;
  watch?: WatchConfig[];
  token?: string;
  /** hooks.secret: the bearer secret POST /hooks/registry requires. */
  hooksSecret?: string;
  /** Start a copy worker pool (default true). */
  workers?: boolean;
  /** Listen on this port (for registry notifications). */
  port?: number;
  /** The in-use index retention consults (as when the process watches pods). */
  inUse?: InUseStore;
}

export interface Harness {
  config: FerryConfig;
  setConfig(next: FerryConfig): Promise<void>;
  watcher: Watcher;
  store: ImageStore;
  app: FastifyInstance;
  url: string;
  conn: Redis;
  mirrorRefOf(ref: string): string;
  /** Resolves with the record of `ref` once it is mirrored (at `digest` when given). */
  mirrored(ref: string, digest?: string, timeoutMs?: number): Promise<ImageRecord>;
  close(): Promise<void>;
}

export async function harness(o: HarnessOptions): Promise<Harness> {
  let config = testConfig({
    mirror: o.mirror.host,
    prefix: o.prefix,
    ...(o.watch ? { watch: o.watch } : {}),
    ...(o.token ? { token: o.token } : {}),
    ...(o.hooksSecret ? { hooksSecret: o.hooksSecret } : {}),
  });
  const conns: Redis[] = [];
  const conn = (): Redis => {
    const c = connectRedis(o.redisUrl);
    conns.push(c);
    return c;
  };
  const main = conn();
  const store = new ImageStore(main, o.prefix);
  const queue = createQueue(main, o.prefix);
  const producer = new Producer({ store, queue, maxAttempts: () => config.queue.maxAttempts, bufferLimit: 10_000 });
  const engine = new RegistryEngine({ config, retries: 0 });
  const mirrorRefOf = (ref: string) => toMirrorReference(ref, { registry: config.mirror.registry, prefix: config.mirror.prefix });
  let pool: WorkerPool | undefined;
  if (o.workers !== false) {
    pool = createWorkerPool({ connection: conn(), store, config, engine, logger, countsIntervalMs: 0, workerOpts: { lockDuration: 5000, stalledInterval: 2000 } });
  }
  // Record events, for `mirrored()`.
  const records = new EventEmitter();
  const sub = conn();
  sub.on('message', (_c: string, m: string) => {
    const ev = decodeEvent(m);
    if (ev?.type === 'state') records.emit('state', ev.record);
  });
  await sub.subscribe(store.k.events);
  const watcher = new Watcher({
    config: () => config,
    redis: main,
    workerConnection: conn(),
    subscriber: conn(),
    store,
    producer,
    engine,
    logger,
    mirrorRefOf,
    ...(o.inUse ? { inUse: o.inUse } : {}),
  });
  const app = Fastify();
  await app.register(watchRoutes(watcher, () => config, logger));
  const url = await app.listen({ port: o.port ?? 0, host: '127.0.0.1' });
  const h: Harness = {
    get config() {
      return config;
    },
    async setConfig(next) {
      config = next;
      engine.updateConfig(next);
      await watcher.onConfigChange();
    },
    watcher,
    store,
    app,
    url,
    conn: main,
    mirrorRefOf,
    async mirrored(ref, digest, timeoutMs = 20_000) {
      const ok = (r: ImageRecord | undefined): r is ImageRecord => r?.ref === ref && r.state === 'mirrored' && (!digest || r.digest === digest);
      let on: ((r: ImageRecord) => void) | undefined;
      let timer: NodeJS.Timeout | undefined;
      const seen = new Promise<ImageRecord>((resolve, reject) => {
        on = (r) => ok(r) && resolve(r);
        records.on('state', on);
        timer = setTimeout(() => reject(new Error(`${ref} not mirrored${digest ? ` at ${digest}` : ''} within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const now = await store.get(ref);
        return ok(now) ? now : await seen;
      } finally {
        clearTimeout(timer);
        records.off('state', on!);
      }
    },
    async close() {
      await watcher.close();
      await app.close();
      await pool?.close();
      await producer.close();
      await queue.close();
      await engine.close();
      for (const c of conns) c.disconnect();
    },
  };
  return h;
}

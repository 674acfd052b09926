/**
 * What the GC and drift-refresh tests share: a config, a clock the test
 * moves (the in-use index, GC and refresh all read it), the in-use index
 * filled with pods through setPod, and images pushed with skopeo.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { DEFAULTS, type FerryConfig } from '../../../src/config/index.js';
import { InUseStore, type PodImage } from '../../../src/in-use/index.js';
import { connectRedis, ImageStore, type ImageRecord } from '../../../src/queue/index.js';
import { toMirrorReference } from '../../../src/reference/index.js';
import { buildImage, pushImage, type BuiltImage } from '../../support/images.js';

export const logger = pino({ level: process.env.FERRY_TEST_LOG ?? 'silent' });
export const H = 3_600_000;

let layouts: string | undefined;
let n = 0;

/** A fresh layout directory (removed by cleanupLayouts). */
export function layoutDir(): string {
  layouts ??= mkdtempSync(join(tmpdir(), 'ferry-gc-img-'));
  return join(layouts, `l${n++}`);
}

export function cleanupLayouts(): void {
  if (layouts) rmSync(layouts, { recursive: true, force: true });
}

/** Builds a fresh image and pushes it as `dst` (`host/repo:tag`). */
export async function pushNew(dst: string): Promise<BuiltImage> {
  const layout = layoutDir();
  const image = buildImage(layout, { tag: 't', layerSizes: [1024] });
  await pushImage(layout, 't', dst);
  return image;
}

/** The manifest at `src` tagged `dst` too (same digest), registry to registry. */
export async function copyTag(src: string, dst: string): Promise<void> {
  await promisify(execFile)('skopeo', ['copy', '-q', '--all', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${src}`, `docker://${dst}`]);
}

export function gcConfig(o: { mirror: string; prefix: string; gc?: Partial<FerryConfig['gc']>; refresh?: Partial<FerryConfig['refresh']> }): FerryConfig {
  const c: FerryConfig = structuredClone(DEFAULTS);
  c.mirror = { registry: o.mirror, insecure: true, prefix: '' };
  c.queue = { ...c.queue, prefix: o.prefix, maxAttempts: 2, backoff: { initialMs: 50, maxMs: 500 } };
  c.copy = { ...c.copy, platforms: [], requestsPerSecond: 0, timeoutMs: 10_000 };
  c.gc = { ...c.gc, enabled: true, dryRun: false, ...o.gc };
  c.refresh = { ...c.refresh, ...o.refresh };
  c.log = { level: 'silent' };
  return c;
}

export interface Scene {
  conn: Redis;
  store: ImageStore;
  inUse: InUseStore;
  clock: { ms: number };
  now: () => number;
  mirrorRefOf(ref: string): string;
  /** The index says a tracker has a synced, healthy pod watch (at the clock's time). */
  live(): Promise<void>;
  /** A pod running `ref` at `digest` (as the pod tracker would write it). */
  run(pod: string, ref: string, digest: string, image?: string): Promise<void>;
  stop(pod: string): Promise<void>;
  /** An image record as a finished copy leaves it. */
  record(ref: string, digest: string, extra?: Partial<ImageRecord>): Promise<ImageRecord>;
  close(): void;
}

export function scene(redisUrl: string, prefix: string, mirror: string, start = Date.now()): Scene {
  const conn = connectRedis(redisUrl);
  const clock = { ms: start };
  const now = () => clock.ms;
  const inUse = new InUseStore(conn, prefix, now);
  const store = new ImageStore(conn, prefix, now);
  const mirrorRefOf = (ref: string) => toMirrorReference(ref, { registry: mirror, prefix: '' });
  const image = (pod: string, ref: string, digest: string, spec?: string): PodImage => ({
    namespace: 'shop',
    pod,
    container: 'app',
    list: 'containers',
    node: 'node-a',
    image: spec ?? mirrorRefOf(ref),
    ref,
    digest,
    rewritten: true,
  });
  return {
    conn,
    store,
    inUse,
    clock,
    now,
    mirrorRefOf,
    live: async () => void (await inUse.heartbeat(10 * 60_000, { synced: true })),
    run: async (pod, ref, digest, spec) => void (await inUse.setPod('shop', pod, [image(pod, ref, digest, spec)])),
    stop: async (pod) => void (await inUse.removePod('shop', pod)),
    async record(ref, digest, extra = {}) {
      const at = new Date(clock.ms).toISOString();
      const r = await store.update(
        ref,
        { state: 'mirrored', mirrorRef: mirrorRefOf(ref), digest, sourceDigest: digest, mirroredAt: at, createdAt: at, source: 'admission', attempts: 1, maxAttempts: 2, ...extra },
        { upsert: true },
      );
      return r!;
    },
    close: () => conn.disconnect(),
  };
}

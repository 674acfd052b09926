/**
 * The cluster side of a dashboard test: pods written into the in-use index
 * through InUseStore (as the watch role's pod tracker does), a tracker
 * heartbeat so the dashboard has a cluster view, and a GC report where the
 * GC run leaves it.
 */
import type { Redis } from 'ioredis';
import { gcReportKey, type GcReport } from '../../../src/gc/index.js';
import { InUseStore, type PodImage } from '../../../src/in-use/index.js';

export interface SeedContainer {
  container?: string;
  ref: string;
  digest?: string | null;
  node?: string | null;
}

/** One pod's images (a container `app` on node `node-1` unless said otherwise). */
export async function seedPod(store: InUseStore, namespace: string, pod: string, containers: SeedContainer[]): Promise<void> {
  const images: PodImage[] = containers.map((c, i) => ({
    namespace,
    pod,
    container: c.container ?? (i === 0 ? 'app' : `app-${i}`),
    list: 'containers',
    node: c.node === undefined ? 'node-1' : c.node,
    image: c.ref,
    ref: c.ref,
    digest: c.digest ?? null,
    rewritten: false,
  }));
  await store.setPod(namespace, pod, images);
}

/** A tracker that has listed every pod and keeps its watch: the dashboard's cluster view is `live`. */
export async function syncTracker(store: InUseStore, ttlMs = 600_000): Promise<void> {
  await store.heartbeat(ttlMs, { synced: true });
}

export async function writeGcReport(redis: Redis, prefix: string, report: GcReport | string): Promise<void> {
  await redis.set(gcReportKey(prefix), typeof report === 'string' ? report : JSON.stringify(report));
}

export const digest = (c: string): string => `sha256:${c.repeat(64).slice(0, 64)}`;

/** A dry-run report with something in every list. */
export function sampleGcReport(now = Date.now()): GcReport {
  const iso = (ago: number) => new Date(now - ago).toISOString();
  return {
    startedAt: iso(3_602_000),
    finishedAt: iso(3_600_000),
    dryRun: true,
    unusedFor: '720h',
    keepUnusedFor: '168h',
    removed: [
      { ref: 'docker.io/library/old-app:1.0', mirrorRef: 'mirror.local:5000/docker.io/library/old-app:1.0', digest: digest('a'), unusedSince: iso(40 * 86_400_000) },
      { ref: 'docker.io/library/never-ran:2', mirrorRef: 'mirror.local:5000/docker.io/library/never-ran:2', digest: digest('b'), unusedSince: null },
      {
        ref: 'docker.io/library/moving:latest',
        mirrorRef: `mirror.local:5000/docker.io/library/moving@${digest('e')}`,
        digest: digest('e'),
        unusedSince: iso(31 * 86_400_000),
        kind: 'superseded',
      },
    ],
    protected: [
      {
        ref: 'docker.io/library/shared-base:3',
        mirrorRef: 'mirror.local:5000/docker.io/library/shared-base:3',
        digest: digest('c'),
        unusedSince: iso(35 * 86_400_000),
        reason: `digest ${digest('c')} runs in 2 pods`,
      },
    ],
    errors: [
      { ref: 'docker.io/library/stuck:9', mirrorRef: 'mirror.local:5000/docker.io/library/stuck:9', digest: digest('d'), unusedSince: iso(50 * 86_400_000), reason: 'DELETE refused: 405 UNSUPPORTED' },
    ],
    skipped: null,
  };
}

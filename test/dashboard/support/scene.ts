/**
 * A realistic dashboard scene for the screenshot: a few thousand records in
 * every state plus a hand-picked "recent activity" set on top, the pods that
 * run them and a last GC run, and copies that make progress (what a worker
 * writes through ImageStore).
 */
import type { Redis } from 'ioredis';
import type { GcItem } from '../../../src/gc/index.js';
import { InUseStore } from '../../../src/in-use/index.js';
import { ImageStore, type ImageRecord } from '../../../src/queue/index.js';
import { seedPod, syncTracker, writeGcReport } from './in-use.js';
import { blankRecord, seedRecords } from './seed.js';

type Top = Partial<ImageRecord> & { ref: string; ageMs: number };

const MB = 1_000_000;

export function topRecords(now: number): Top[] {
  const sha = (s: string) => `sha256:${Buffer.from(s.padEnd(32, s)).toString('hex').slice(0, 64)}`;
  return [
    { ref: 'docker.io/library/postgres:16.4', state: 'copying', attempts: 1, bytesTotal: 152 * MB, bytesDone: 97 * MB, ageMs: 2_000 },
    { ref: 'ghcr.io/grafana/loki:3.1.1', state: 'copying', attempts: 1, bytesTotal: 88 * MB, bytesDone: 21 * MB, ageMs: 4_000 },
    { ref: 'quay.io/prometheus/alertmanager:v0.27.0', state: 'copying', attempts: 1, bytesTotal: 46 * MB, bytesDone: 3 * MB, ageMs: 6_000 },
    {
      ref: 'ghcr.io/acme/payments-api:2024.09.1',
      state: 'retrying',
      attempts: 3,
      lastError:
        'ghcr.io/acme/payments-api: GET manifest 2024.09.1: HTTP 429 TOOMANYREQUESTS (rate limit exceeded) (the registry rate-limited ferry (429); lower registries.ghcr.io.requestsPerSecond or authenticate for a higher quota; ferry retries after Retry-After)',
      nextAttemptAt: new Date(now + 94_000).toISOString(),
      ageMs: 11_000,
    },
    { ref: 'docker.io/library/nginx:1.27.1', state: 'mirrored', attempts: 1, digest: sha('nginx1271'), bytesTotal: 71 * MB, bytesDone: 71 * MB, ageMs: 18_000 },
    {
      ref: 'docker.io/acme/legacy-worker:0.9',
      state: 'error',
      attempts: 8,
      lastError:
        'registry-1.docker.io/acme/legacy-worker: GET manifest 0.9: HTTP 404 MANIFEST_UNKNOWN (manifest unknown) (the tag or digest does not exist in that repository; check the reference)',
      ageMs: 41_000,
    },
    { ref: 'registry.k8s.io/ingress-nginx/controller:v1.11.2', state: 'mirrored', attempts: 1, digest: sha('ingress1112'), bytesTotal: 104 * MB, bytesDone: 104 * MB, ageMs: 65_000 },
    {
      ref: 'docker.io/library/redis:7.4-alpine',
      state: 'mirrored',
      attempts: 2,
      digest: sha('redis74alpine'),
      bytesTotal: 17 * MB,
      bytesDone: 17 * MB,
      driftedAt: new Date(now - 1_500_000).toISOString(),
      ageMs: 130_000,
    },
    { ref: 'docker.io/vulnerable/xz-utils-base:5.6.0', state: 'blocked', blockedReason: 'CVE-2024-3094: backdoored liblzma', ageMs: 240_000 },
    { ref: 'quay.io/jetstack/cert-manager-controller:v1.15.3', state: 'mirrored', attempts: 1, digest: sha('certmgr1153'), bytesTotal: 63 * MB, bytesDone: 63 * MB, ageMs: 420_000 },
    { ref: 'ghcr.io/fluxcd/source-controller:v1.4.1', state: 'queued', ageMs: 600_000 },
    { ref: 'public.ecr.aws/karpenter/controller:1.0.6', state: 'mirrored', attempts: 1, digest: sha('karpenter106'), bytesTotal: 58 * MB, bytesDone: 58 * MB, ageMs: 900_000 },
  ];
}

/** Seeds `bulk` records updated over the past days (an hour old at the newest). */
export async function seedBulk(redis: Redis, prefix: string, mirrorRefOf: (ref: string) => string, bulk = 2_400): Promise<void> {
  await seedRecords(redis, prefix, bulk, mirrorRefOf, { now: Date.now() - 3_600_000 });
}

/** Writes the hand-picked recent set (updated seconds to minutes ago). Returns the refs that are copying. */
export async function writeTop(redis: Redis, prefix: string, mirrorRefOf: (ref: string) => string): Promise<string[]> {
  const now = Date.now();
  let clock = now;
  const store = new ImageStore(redis, prefix, () => clock);
  const top = topRecords(now).sort((a, b) => b.ageMs - a.ageMs);
  for (const { ageMs, ...r } of top) {
    clock = now - ageMs;
    const { ref, ...rest } = r;
    await store.update(
      ref,
      {
        ...blankRecord(mirrorRefOf(ref), new Date(now - ageMs - 60_000).toISOString(), 'admission'),
        mirroredAt: rest.state === 'mirrored' ? new Date(now - ageMs).toISOString() : null,
        ...rest,
      },
      { upsert: true },
    );
  }
  await writeCluster(redis, prefix, mirrorRefOf);
  return top.filter((r) => r.state === 'copying').map((r) => r.ref);
}

/** Who runs the recent set: [ref, namespace, pods] (replicas of one deployment each). */
const RUNNING: [string, string, number][] = [
  ['docker.io/library/nginx:1.27.1', 'shop', 6],
  ['docker.io/library/nginx:1.27.1', 'blog', 3],
  ['docker.io/library/nginx:1.27.1', 'docs', 2],
  ['registry.k8s.io/ingress-nginx/controller:v1.11.2', 'ingress-nginx', 3],
  ['docker.io/library/redis:7.4-alpine', 'shop', 2],
  ['docker.io/library/redis:7.4-alpine', 'sessions', 1],
  ['ghcr.io/acme/payments-api:2024.09.1', 'payments', 4],
  ['docker.io/vulnerable/xz-utils-base:5.6.0', 'legacy', 2],
  ['quay.io/jetstack/cert-manager-controller:v1.15.3', 'cert-manager', 1],
  ['docker.io/library/postgres:16.4', 'shop', 1],
];

/**
 * The in-use index for the recent set (a live pod watch), one image that
 * stopped running nine days ago, and a dry-run GC report, as the watch role
 * would have left them.
 */
export async function writeCluster(redis: Redis, prefix: string, mirrorRefOf: (ref: string) => string): Promise<void> {
  const now = Date.now();
  let clock = now - 9 * 86_400_000;
  const inUse = new InUseStore(redis, prefix, () => clock);
  await seedPod(inUse, 'autoscaling', 'karpenter-0', [{ ref: 'public.ecr.aws/karpenter/controller:1.0.6' }]);
  await inUse.removePod('autoscaling', 'karpenter-0');
  clock = now;
  const nodes = ['node-a', 'node-b', 'node-c'];
  for (const [ref, namespace, pods] of RUNNING) {
    const name = ref.split('/').pop()!.split(':')[0]!;
    for (let i = 0; i < pods; i++) await seedPod(inUse, namespace, `${name}-${namespace}-${i}`, [{ ref, node: nodes[i % nodes.length]! }]);
  }
  await syncTracker(inUse, 24 * 3_600_000);
  const item = (i: number, days: number): GcItem => {
    const ref = `docker.io/acme/retired-service-${i}:2023.${1 + (i % 12)}`;
    return { ref, mirrorRef: mirrorRefOf(ref), digest: null, unusedSince: new Date(now - days * 86_400_000).toISOString() };
  };
  await writeGcReport(redis, prefix, {
    startedAt: new Date(now - 9 * 3_600_000 - 4_000).toISOString(),
    finishedAt: new Date(now - 9 * 3_600_000).toISOString(),
    dryRun: true,
    unusedFor: '720h',
    keepUnusedFor: '168h',
    removed: Array.from({ length: 37 }, (_x, i) => item(i, 31 + i)),
    protected: Array.from({ length: 5 }, (_x, i) => ({ ...item(100 + i, 40), reason: 'another record still uses its digest' })),
    errors: [],
    skipped: null,
  });
}

/**
 * A stand-in worker for pictures: ticks progress on `copying` refs, finishes
 * them (-> mirrored with a digest) and starts the next queued one. Every
 * write goes through ImageStore, so the dashboard sees real events.
 */
export function simulateWorker(store: ImageStore, copying: string[], queued: string[], o: { everyMs?: number; bytesPerTick?: number } = {}): () => void {
  let stopped = false;
  const active = [...copying];
  const waiting = [...queued];
  const tick = async () => {
    for (const ref of [...active]) {
      const r = await store.get(ref);
      if (!r || r.state !== 'copying') continue;
      const step = Math.round((o.bytesPerTick ?? 1_000_000) * (0.6 + Math.random() * 0.8));
      if (r.bytesDone + step >= r.bytesTotal) {
        await store.progress(ref, r.bytesTotal, r.bytesTotal);
        const hex = [...ref].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7).toString(16).padStart(8, '0');
        await store.update(ref, { state: 'mirrored', digest: `sha256:${hex.repeat(8)}`, mirroredAt: new Date().toISOString(), bytesDone: r.bytesTotal });
        active.splice(active.indexOf(ref), 1);
        const next = waiting.shift();
        if (next) {
          await store.update(next, { state: 'copying', attempts: 1, lastError: null, bytesDone: 0, bytesTotal: 20_000_000 + Math.round(Math.random() * 60_000_000) });
          active.push(next);
        }
      } else {
        await store.progress(ref, r.bytesDone + step, r.bytesTotal);
      }
    }
  };
  let running = false;
  const timer = setInterval(() => {
    if (stopped || running) return;
    running = true;
    void tick()
      .catch(() => {})
      .finally(() => (running = false));
  }, o.everyMs ?? 250);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** Realistic image records written through ImageStore (what workers do), for list tests, the bench and the screenshot. */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ImageStore, type ImageRecord, type ImageSource, type ImageState } from '../../../src/queue/index.js';

const REPOS = [
  'docker.io/library/nginx',
  'docker.io/library/redis',
  'docker.io/library/postgres',
  'docker.io/library/alpine',
  'docker.io/library/busybox',
  'docker.io/bitnami/kafka',
  'docker.io/grafana/grafana',
  'ghcr.io/fluxcd/source-controller',
  'ghcr.io/dexidp/dex',
  'quay.io/prometheus/prometheus',
  'quay.io/jetstack/cert-manager-controller',
  'registry.k8s.io/ingress-nginx/controller',
  'registry.k8s.io/coredns/coredns',
  'registry.k8s.io/kube-state-metrics/kube-state-metrics',
  'public.ecr.aws/karpenter/controller',
  'gcr.io/distroless/static',
];

const ERRORS = [
  'registry-1.docker.io/library/nginx: GET manifest 1.99: HTTP 404 MANIFEST_UNKNOWN (manifest unknown) (the tag or digest does not exist in that repository; check the reference)',
  'ghcr.io/acme/private-api: GET manifest v3: HTTP 401 UNAUTHORIZED — no credentials configured (set registries.ghcr.io.username/password or registries.ghcr.io.credentialsFile)',
  'registry-1.docker.io/library/redis: HTTP 429 TOOMANYREQUESTS (You have reached your pull rate limit)',
  'quay.io/prometheus/prometheus: connect ECONNREFUSED 10.0.4.17:443',
];

function digestOf(s: string): string {
  return `sha256:${createHash('sha256').update(s).digest('hex')}`;
}

/** Deterministic state mix: mostly mirrored, some of everything else (copying is for live scenes, not old records). */
export function stateFor(i: number): ImageState {
  const k = i % 100;
  if (k < 78) return 'mirrored';
  if (k < 87) return 'queued';
  if (k < 91) return 'retrying';
  if (k < 97) return 'error';
  return 'blocked';
}

export function refFor(i: number): string {
  const repo = REPOS[i % REPOS.length]!;
  const n = Math.floor(i / REPOS.length);
  return `${repo}:${1 + (n % 9)}.${Math.floor(n / 9) % 40}.${Math.floor(n / 360)}`;
}

/** The fields of a record nothing has happened to yet (no attempt, no bytes, no digest, no error); spread overrides on top. */
export function blankRecord(mirrorRef: string, createdAt: string, source: ImageSource): Partial<ImageRecord> {
  return {
    mirrorRef,
    attempts: 0,
    maxAttempts: 8,
    lastError: null,
    nextAttemptAt: null,
    digest: null,
    bytesTotal: 0,
    bytesDone: 0,
    createdAt,
    source,
    mirroredAt: null,
    blockedReason: null,
  };
}

export function recordFor(i: number, mirrorRefOf: (ref: string) => string, now = Date.now()): Partial<ImageRecord> & { ref: string } {
  const ref = refFor(i);
  const state = stateFor(i);
  const bytesTotal = 2_000_000 + ((i * 7_919_113) % 180_000_000);
  const updated = new Date(now - i * 37_000);
  const base: Partial<ImageRecord> & { ref: string } = {
    ref,
    state,
    ...blankRecord(mirrorRefOf(ref), new Date(updated.getTime() - 3_600_000).toISOString(), i % 7 === 0 ? 'watch' : 'admission'),
  };
  switch (state) {
    case 'mirrored':
      return { ...base, attempts: 1 + (i % 3 === 0 ? 1 : 0), digest: digestOf(ref), bytesTotal, bytesDone: bytesTotal, mirroredAt: updated.toISOString() };
    case 'copying':
      return { ...base, attempts: 1, bytesTotal, bytesDone: Math.floor(bytesTotal * ((i % 10) / 10)) };
    case 'retrying':
      return { ...base, attempts: 1 + (i % 4), lastError: ERRORS[i % ERRORS.length]!, nextAttemptAt: new Date(now + 20_000 + (i % 9) * 30_000).toISOString() };
    case 'error':
      return { ...base, attempts: 8, lastError: ERRORS[i % 2]!, bytesTotal: 0 };
    case 'blocked':
      return { ...base, blockedReason: 'CVE-2024-3094: backdoored xz-utils in this base image', digest: i % 2 ? digestOf(ref) : null };
    default:
      return base;
  }
}

/**
 * Writes `n` records (ids `from`..`from+n-1`) through an ImageStore whose
 * clock says record i was updated i*37 s ago: every write is a real state event.
 */
export async function seedRecords(
  redis: Redis,
  prefix: string,
  n: number,
  mirrorRefOf: (ref: string) => string,
  o: { from?: number; now?: number } = {},
): Promise<string[]> {
  const refs: string[] = [];
  const now = o.now ?? Date.now();
  const from = o.from ?? 0;
  let clock = now;
  const store = new ImageStore(redis, prefix, () => clock);
  let pending: Promise<unknown>[] = [];
  // Oldest first, so the newest write is also the newest updatedAt.
  for (let j = from + n - 1; j >= from; j--) {
    const { ref, ...rest } = recordFor(j, mirrorRefOf, now);
    refs.push(ref);
    clock = now - j * 37_000;
    pending.push(store.update(ref, rest, { upsert: true })); // reads the clock synchronously
    if (pending.length >= 500) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  return refs.reverse();
}

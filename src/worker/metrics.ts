/**
 * `ferry_worker_*` metrics in prom-client's global registry. Module singletons
 * (looked up first, so loading this module twice cannot double-register).
 */
import { Counter, Gauge, Histogram, register, type Metric } from 'prom-client';
import { IMAGE_STATES, type ImageState } from '../queue/index.js';

function once<T extends Metric>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export type JobOutcome = 'mirrored' | 'up_to_date' | 'retrying' | 'error' | 'skipped' | 'handed_back';

export const jobsTotal = once(
  'ferry_worker_jobs_total',
  () => new Counter({ name: 'ferry_worker_jobs_total', help: 'Copy jobs finished by this worker, by outcome', labelNames: ['outcome'] as const }),
);

export const imagesByState = once(
  'ferry_worker_images',
  () => new Gauge({ name: 'ferry_worker_images', help: 'Image records per state (refreshed from Redis every few seconds)', labelNames: ['state'] as const }),
);

export const copyBytesTotal = once(
  'ferry_worker_copy_bytes_total',
  () => new Counter({ name: 'ferry_worker_copy_bytes_total', help: 'Bytes copied into the mirror (blobs actually transferred)' }),
);

export const copyDuration = once(
  'ferry_worker_copy_duration_seconds',
  () =>
    new Histogram({
      name: 'ferry_worker_copy_duration_seconds',
      help: 'Duration of one copy attempt, by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    }),
);

export const activeCopies = once(
  'ferry_worker_active_copies',
  () => new Gauge({ name: 'ferry_worker_active_copies', help: 'Copies running in this process now' }),
);

export function setStateCounts(counts: Record<ImageState, number>): void {
  for (const s of IMAGE_STATES) imagesByState.set({ state: s }, counts[s] ?? 0);
}

/** Tenant isolation's upstream checks: `probe` (anonymous HEAD: public or private) and `verify` (a namespace's pull secret). */
export const tenancyChecks = once(
  'ferry_worker_tenancy_checks_total',
  () =>
    new Counter({
      name: 'ferry_worker_tenancy_checks_total',
      help: 'Upstream checks for tenant isolation, by check (probe, verify) and outcome (public, private, unknown, granted, refused, skipped)',
      labelNames: ['check', 'outcome'] as const,
    }),
);

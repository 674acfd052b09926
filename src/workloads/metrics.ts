/** `ferry_workload_index_*` metrics (module singletons in prom-client's global registry). */
import { Counter, Gauge } from 'prom-client';
import { register } from '../observability/index.js';

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

/** What each live workload index in this process reports; the gauges sum them at scrape time. */
export interface IndexFigures {
  readonly size: number;
  readonly imageCount: number;
}

export const indexes = new Set<IndexFigures>();

function sum(pick: (t: IndexFigures) => number): number {
  let n = 0;
  for (const t of indexes) n += pick(t);
  return n;
}

export const workloadsGauge = once(
  'ferry_workload_index_workloads',
  () =>
    new Gauge({
      name: 'ferry_workload_index_workloads',
      help: 'Deployments, StatefulSets and DaemonSets the workload image index holds (those naming at least one image and not scaled to zero)',
      collect() {
        this.set(sum((t) => t.size));
      },
    }),
);

export const imagesGauge = once(
  'ferry_workload_index_images',
  () =>
    new Gauge({
      name: 'ferry_workload_index_images',
      help: 'Distinct images (what the pods pull) the indexed workloads name',
      collect() {
        this.set(sum((t) => t.imageCount));
      },
    }),
);

export const indexErrors = once(
  'ferry_workload_index_errors_total',
  () =>
    new Counter({
      name: 'ferry_workload_index_errors_total',
      help: 'Workload list/watch failures (each followed by a restart with backoff) and index writes that failed (retried), by kind: watch, write',
      labelNames: ['kind'] as const,
    }),
);

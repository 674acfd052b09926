/** `ferry_in_use_*` and `ferry_pod_watch_*` metrics (module singletons in prom-client's global registry). */
import { Counter, Gauge, Histogram } from 'prom-client';
import { register } from '../observability/index.js';

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

/** What each live tracker in this process reports; the gauges sum them at scrape time. */
export interface TrackerFigures {
  readonly size: number;
  readonly refCount: number;
}

export const trackers = new Set<TrackerFigures>();

function sum(pick: (t: TrackerFigures) => number): number {
  let n = 0;
  for (const t of trackers) n += pick(t);
  return n;
}

export const podsGauge = once(
  'ferry_in_use_pods',
  () =>
    new Gauge({
      name: 'ferry_in_use_pods',
      help: 'Pods the pod tracker holds (each with at least one image it indexes)',
      collect() {
        this.set(sum((t) => t.size));
      },
    }),
);

export const imagesGauge = once(
  'ferry_in_use_images',
  () =>
    new Gauge({
      name: 'ferry_in_use_images',
      help: 'Distinct upstream image references the tracked pods name',
      collect() {
        this.set(sum((t) => t.refCount));
      },
    }),
);

export const watchErrors = once(
  'ferry_pod_watch_errors_total',
  () =>
    new Counter({
      name: 'ferry_pod_watch_errors_total',
      help: 'Pod list/watch failures (each followed by a restart with backoff), and in-use index writes that failed (retried), by kind: watch, write',
      labelNames: ['kind'] as const,
    }),
);

export const updateSeconds = once(
  'ferry_in_use_update_seconds',
  () =>
    new Histogram({
      name: 'ferry_in_use_update_seconds',
      help: 'From a pod event that changed what the pod runs to the in-use index write acknowledged by Redis (after the initial list)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    }),
);

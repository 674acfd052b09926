/** `ferry_gc_*` metrics (module singletons in prom-client's global registry). */
import { Counter, Gauge } from 'prom-client';
import { register } from '../observability/index.js';

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export const removed = once(
  'ferry_gc_removed_total',
  () =>
    new Counter({
      name: 'ferry_gc_removed_total',
      help: 'Images garbage collection removed from the mirror (dry_run="true": would have removed)',
      labelNames: ['dry_run'] as const,
    }),
);

export const lastRun = once(
  'ferry_gc_last_run_timestamp_seconds',
  () =>
    new Gauge({
      name: 'ferry_gc_last_run_timestamp_seconds',
      help: 'End of the last garbage-collection run that was not skipped (Unix seconds); a skipped run (disabled, no live pod watch) leaves it alone',
    }),
);

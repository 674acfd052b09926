/** `ferry_events_*`: what the Kubernetes Event recorder wrote and what it had to drop. */
import { Counter } from 'prom-client';
import { register } from '../observability/index.js';

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export const eventsWritten = once(
  'ferry_events_total',
  () =>
    new Counter({
      name: 'ferry_events_total',
      help: 'Occurrences of Kubernetes Events written to the API (a new Event, or a count bump on an existing one), by reason and type',
      labelNames: ['reason', 'type'] as const,
    }),
);

export const eventsDropped = once(
  'ferry_events_dropped_total',
  () =>
    new Counter({
      name: 'ferry_events_dropped_total',
      help: 'Occurrences of Kubernetes Events never written, by cause: overflow (more distinct events than the recorder keeps), rejected (the API refused the write), closed (recorded during shutdown)',
      labelNames: ['cause'] as const,
    }),
);

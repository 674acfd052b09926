/** `ferry_notify_*` metrics (module singletons in prom-client's global registry). */
import { Counter, Gauge, type Metric } from 'prom-client';
import { register } from '../observability/index.js';

function once<T extends Metric>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export type DeliveryOutcome = 'delivered' | 'retrying' | 'rejected' | 'exhausted' | 'dropped';

export const deliveriesTotal = once(
  'ferry_notify_deliveries_total',
  () =>
    new Counter({
      name: 'ferry_notify_deliveries_total',
      help: 'CloudEvent delivery attempts by event and outcome (delivered; retrying = 5xx/408/429/unreachable; rejected = other 4xx, permanent; exhausted = retries used up; dropped = receiver no longer configured)',
      labelNames: ['event', 'outcome'] as const,
    }),
);

export const emittedTotal = once(
  'ferry_notify_emitted_total',
  () => new Counter({ name: 'ferry_notify_emitted_total', help: 'Deliveries queued (one per event and receiver; a duplicate of a queued or recent one is not counted)', labelNames: ['event'] as const }),
);

/** Set by the consumer from BullMQ's job counts on every scrape (one Redis round trip). */
let depthSource: (() => Promise<Record<string, number>>) | undefined;
export function setDepthSource(fn: (() => Promise<Record<string, number>>) | undefined): void {
  depthSource = fn;
}

export const queueDepth = once(
  'ferry_notify_queue_depth',
  () =>
    new Gauge({
      name: 'ferry_notify_queue_depth',
      help: 'Notification deliveries waiting, delayed (between retries) or active, read at scrape time',
      labelNames: ['state'] as const,
      async collect() {
        if (!depthSource) return;
        try {
          const counts = await depthSource();
          for (const s of ['waiting', 'delayed', 'active']) this.set({ state: s }, counts[s] ?? 0);
        } catch {
          // Redis away: the last values stay
        }
      },
    }),
);

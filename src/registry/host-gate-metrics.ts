/**
 * `ferry_registry_*` gauges of the upstream hosts' gates (host-gates.ts),
 * read at scrape time: the concurrency limit each host has settled on, and
 * the last quota it announced (`ratelimit-remaining` less what was sent
 * since, `ratelimit-limit` or the pull budget). Not imported by the engine,
 * so `ferry copy` does not load prom-client: the roles that serve /metrics
 * import this module.
 */
import { Gauge } from 'prom-client';
import { register } from '../observability/index.js';
import { hostGateSnapshots } from './host-gates.js';
import type { GateSnapshot } from './host-gate.js';

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

function gauge(name: string, help: string, pick: (s: GateSnapshot) => number | undefined): Gauge<'host'> {
  return once(
    name,
    () =>
      new Gauge({
        name,
        help,
        labelNames: ['host'] as const,
        collect() {
          this.reset();
          for (const [host, s] of hostGateSnapshots()) {
            const v = pick(s);
            if (v !== undefined) this.set({ host }, v);
          }
        },
      }),
  );
}

export const concurrencyLimit = gauge('ferry_registry_concurrency_limit', 'Requests the adaptive gate lets wait for response headers at once, by upstream host', (s) => s.limit);
export const inFlight = gauge('ferry_registry_requests_in_flight', 'Requests awaiting response headers now, by upstream host', (s) => s.inFlight);
export const rateLimitRemaining = gauge(
  'ferry_registry_ratelimit_remaining',
  'Requests (Docker Hub: pulls) the upstream still allows in its window: its last ratelimit-remaining less what ferry sent since',
  (s) => s.remaining,
);
export const rateLimitLimit = gauge('ferry_registry_ratelimit_limit', "The upstream's allowance per window: its last ratelimit-limit, else ferry's pull budget", (s) => s.quotaLimit);

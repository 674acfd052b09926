/**
 * `ferry_watch_hook_deliveries_total{format, outcome}`: hook requests by
 * sender format (the one I/O-free exception here: a prom-client counter).
 * ferry_watch_hook_requests_total (metrics.ts) keeps counting by outcome only.
 */
import { Counter } from 'prom-client';
import { register } from '../../observability/index.js';

const NAME = 'ferry_watch_hook_deliveries_total';

export const hookDeliveries =
  (register.getSingleMetric(NAME) as Counter<'format' | 'outcome'> | undefined) ??
  new Counter({
    name: NAME,
    help: 'POST /hooks/registry requests by sender format (distribution, gitlab, dockerhub, harbor, harbor-cloudevents, github, quay; unknown before the body is recognized) and outcome (matched, ignored, invalid, unauthorized)',
    labelNames: ['format', 'outcome'] as const,
  });

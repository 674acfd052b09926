/** `ferry_watch_*` metrics (module singletons in prom-client's global registry). */
import { Counter, Gauge, Histogram } from 'prom-client';
import { register } from '../observability/index.js';

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export const polls = once(
  'ferry_watch_polls_total',
  () =>
    new Counter({
      name: 'ferry_watch_polls_total',
      help: 'Upstream polls by outcome: initial, new-tag, moved, unchanged, no-match, error; skipped = another replica was polling that watch',
      labelNames: ['outcome'] as const,
    }),
);

export const changes = once(
  'ferry_watch_changes_total',
  () =>
    new Counter({
      name: 'ferry_watch_changes_total',
      help: 'Changes detected and re-mirrored, by kind: initial (first selection), new-tag, moved (same tag, new digest)',
      labelNames: ['kind'] as const,
    }),
);

export const deletions = once(
  'ferry_watch_deletions_total',
  () =>
    new Counter({
      name: 'ferry_watch_deletions_total',
      help: 'Retention deletes of mirror manifests by outcome: deleted, refused (mirror has deletes disabled), failed, protected (still used by an image record)',
      labelNames: ['outcome'] as const,
    }),
);

export const aliasMoves = once(
  'ferry_watch_alias_moves_total',
  () =>
    new Counter({
      name: 'ferry_watch_alias_moves_total',
      help: 'Alias tag updates in the mirror by outcome: moved (to a newly selected digest), repaired (the tag was missing or elsewhere), refused (the alias is an upstream tag name), failed',
      labelNames: ['outcome'] as const,
    }),
);

export const hooks = once(
  'ferry_watch_hook_requests_total',
  () =>
    new Counter({
      name: 'ferry_watch_hook_requests_total',
      help: 'POST /hooks/registry requests by outcome: matched (a poll was triggered), ignored (no watch matched), invalid (not an envelope, not JSON), unauthorized (refused by hooks.secret or the guard)',
      labelNames: ['outcome'] as const,
    }),
);

export const pollSeconds = once(
  'ferry_watch_poll_duration_seconds',
  () =>
    new Histogram({
      name: 'ferry_watch_poll_duration_seconds',
      help: 'Duration of an upstream poll (registry requests + selection)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }),
);

export const watchesGauge = once(
  'ferry_watch_watches',
  () => new Gauge({ name: 'ferry_watch_watches', help: 'Watches in force, by source (config, api, resource)', labelNames: ['source'] as const }),
);

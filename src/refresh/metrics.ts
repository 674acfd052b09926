/** `ferry_refresh_*` metrics (module singletons in prom-client's global registry). */
import { Counter } from 'prom-client';
import { register } from '../observability/index.js';

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export const checked = once(
  'ferry_refresh_checked_total',
  () => new Counter({ name: 'ferry_refresh_checked_total', help: 'Mirrored tags drift refresh re-resolved upstream (one manifest HEAD each)' }),
);

export const moved = once(
  'ferry_refresh_moved_total',
  () => new Counter({ name: 'ferry_refresh_moved_total', help: 'Mirrored tags drift refresh found moved upstream and re-mirrored' }),
);

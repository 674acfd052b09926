import { collectDefaultMetrics, register } from 'prom-client';

let defaultsOn = false;

/**
 * Every ferry metric lives in prom-client's global registry with a `ferry_`
 * prefix; each part of the system defines its own metrics next to its code
 * (module singletons, so `ferry all` registers each once).
 */
export function enableDefaultMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  collectDefaultMetrics({ prefix: 'ferry_process_' });
}

export { register };

/**
 * Where the shared HTTP app (dashboard.port) listens, and who can reach which
 * routes there. Binding is defence in depth: the guard refuses non-loopback
 * callers of every mutating route without a token, whatever the bind.
 * (The texts say "as bearer token", not "Authorization: ...": log masking
 * blanks whatever follows an `Authorization:`.)
 */
import type { FerryConfig } from '../config/index.js';

export interface HttpBindPlan {
  host: string;
  /** Route group -> who can use it, for the start-up log line. */
  reach: Record<string, string>;
}

const LOOPBACK = '127.0.0.1';

/**
 * - only health/metrics roles (worker, import, agent): dashboard.host, so probes and Prometheus reach them
 *   (the agent serves nothing else: its node state goes to Redis, the dashboard serves it);
 * - dashboard.token set: dashboard.host, mutations need the token;
 * - watch without the dashboard and hooks.secret set: dashboard.host, so a
 *   registry in the cluster can deliver notifications; the watch API's
 *   changes stay loopback-only through the guard;
 * - otherwise 127.0.0.1.
 */
export function httpBindPlan(config: FerryConfig, roles: readonly string[]): HttpBindPlan {
  const configured = config.dashboard.host;
  const token = config.dashboard.token !== '';
  const secret = config.hooks.secret !== '';
  const dashboard = roles.includes('dashboard');
  const watch = roles.includes('watch');
  const mutating = dashboard || watch;
  const host = !mutating || token || (watch && !dashboard && secret) ? configured : LOOPBACK;
  const from = host === LOOPBACK ? 'this machine only' : `anywhere that reaches ${host}`;
  const reach: Record<string, string> = {};
  if (!mutating) {
    reach.ops = `/healthz, /readyz, /metrics from ${from}`;
    return { host, reach };
  }
  reach.reads = `GET routes from ${from}`;
  reach.changes = token
    ? `mutating API routes from ${from} with dashboard.token as bearer token`
    : 'mutating API routes from loopback callers only, with a loopback Host and no foreign Origin (no dashboard.token)';
  if (watch) {
    reach.hook = secret
      ? `POST /hooks/registry from ${from} with hooks.secret (bearer token, sender signature, X-Gitlab-Token or ?token=; docs/hooks.md)`
      : token
        ? `POST /hooks/registry from ${from} with dashboard.token as bearer token`
        : 'POST /hooks/registry from loopback callers only (no hooks.secret, no dashboard.token)';
  }
  if (host !== configured) {
    reach.ignoredHost = `dashboard.host ${configured} is not used: set dashboard.token${watch && !dashboard ? ' (or hooks.secret)' : ''} to listen there`;
  }
  return { host, reach };
}

/** One line for the log: `shared HTTP app listens on HOST:PORT: reads: ...; changes: ...; hook: ...`. */
export function describeBindPlan(plan: HttpBindPlan, port: number): string {
  const parts = Object.entries(plan.reach).map(([k, v]) => `${k}: ${v}`);
  return `shared HTTP app listens on ${plan.host}:${port}: ${parts.join('; ')}`;
}

/**
 * Push instead of poll: docker-registry notification envelopes
 * (`application/vnd.docker.distribution.events.v1+json`). Parsing and
 * matching are pure; hook-polls.ts starts the polls.
 */
import type { RegistryConfig } from '../config/index.js';
import type { ResolvedWatch } from './definition.js';
import { watchError } from './errors.js';

export const EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';

export interface RegistryEvent {
  action: string;
  /** Repository path inside the registry (`demo/app`). */
  repository: string;
  tag?: string | undefined;
  digest?: string | undefined;
  mediaType?: string | undefined;
  /** Host the client pushed to (`request.host`), e.g. `registry.example.com:5000`. */
  host?: string | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Throws FERRY_ERR_WATCH_HOOK_INVALID for anything but `{events: [{action, target: {repository}}...]}`. */
export function parseEnvelope(body: unknown): RegistryEvent[] {
  if (!isObj(body) || !Array.isArray(body.events)) {
    throw watchError('HOOK_INVALID', 'not a registry notification envelope: expected an object with an "events" array');
  }
  return body.events.map((ev, i) => {
    if (!isObj(ev) || !str(ev.action) || !isObj(ev.target) || !str(ev.target.repository)) {
      throw watchError('HOOK_INVALID', `events[${i}] is malformed: expected {action, target: {repository, ...}}`);
    }
    const t = ev.target;
    const req = isObj(ev.request) ? ev.request : {};
    return { action: str(ev.action)!, repository: str(t.repository)!, tag: str(t.tag), digest: str(t.digest), mediaType: str(t.mediaType), host: str(req.host) };
  });
}

/** Hosts under which a watch's registry may announce itself: its domain, its configured endpoint, Docker Hub's aliases. */
export function hostsOf(domain: string, registries: Record<string, RegistryConfig>): Set<string> {
  const out = new Set([domain.toLowerCase()]);
  const endpoint = registries[domain]?.endpoint;
  if (endpoint) {
    try {
      out.add(new URL(endpoint).host.toLowerCase());
    } catch {
      /* an invalid endpoint matches nothing extra */
    }
  }
  if (domain === 'docker.io') for (const h of ['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']) out.add(h);
  return out;
}

/**
 * Watches a push may have changed: a tag push (`action: push` with a tag;
 * blob and untagged child-manifest pushes are ignored) to the watch's
 * repository path, on one of its hosts (when the event names a host). A
 * `digest` watch reacts only to its own tag.
 */
export function watchesForEvent(ev: RegistryEvent, watches: readonly ResolvedWatch[], registries: Record<string, RegistryConfig>): ResolvedWatch[] {
  if (ev.action !== 'push' || !ev.tag) return [];
  return watches.filter(
    (w) =>
      w.path === ev.repository &&
      (!ev.host || hostsOf(w.domain, registries).has(ev.host.toLowerCase())) &&
      (w.config.strategy !== 'digest' || w.tag === ev.tag),
  );
}

/** The watches an envelope concerns, each with the pushes that concern it (one poll per watch, however many pushes). */
export function watchesForEnvelope(
  events: readonly RegistryEvent[],
  watches: readonly ResolvedWatch[],
  registries: Record<string, RegistryConfig>,
): Map<string, { watch: ResolvedWatch; pushed: RegistryEvent[] }> {
  const matched = new Map<string, { watch: ResolvedWatch; pushed: RegistryEvent[] }>();
  for (const ev of events) {
    for (const w of watchesForEvent(ev, watches, registries)) {
      const m = matched.get(w.id) ?? { watch: w, pushed: [] };
      m.pushed.push(ev);
      matched.set(w.id, m);
    }
  }
  return matched;
}

/**
 * Push instead of poll: which watches (and which in-use tags) a registry
 * push concerns. Pure; hook-formats/ parses each sender's payload into
 * RegistryEvents, hook-polls.ts starts the polls and re-checks.
 */
import type { RegistryConfig } from '../config/index.js';
import { tryParseReference } from '../reference/index.js';
import type { ResolvedWatch } from './definition.js';
import { parseDistribution, type RegistryEvent } from './hook-formats/index.js';

export { EVENTS_MEDIA_TYPE, type RegistryEvent } from './hook-formats/index.js';

/** The distribution envelope parser (kept under its old name; hook-formats/ holds every sender's). */
export const parseEnvelope = parseDistribution;

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

/**
 * In-use tag references (`host/path:tag`, as the in-use index lists them) a
 * push may have moved: same repository path and tag, on one of the
 * reference's hosts (when the event names one). Digest references cannot move.
 */
export function inUseRefsForEvents(events: readonly RegistryEvent[], refs: readonly string[], registries: Record<string, RegistryConfig>): string[] {
  const pushes = events.filter((ev) => ev.action === 'push' && ev.tag);
  if (!pushes.length) return [];
  return refs.filter((ref) => {
    const p = tryParseReference(ref);
    if (p instanceof Error || !p.tag || p.digest) return false;
    return pushes.some((ev) => ev.repository === p.path && ev.tag === p.tag && (!ev.host || hostsOf(p.domain, registries).has(ev.host.toLowerCase())));
  });
}

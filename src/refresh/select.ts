/**
 * What drift refresh checks in one run (pure, no I/O): which records are
 * targets, and per upstream registry host at most `maxRequestsPerRegistry`
 * of them, least recently checked first, so a budget smaller than the
 * targets still goes round all of them over successive runs.
 */
import type { ImageRecord } from '../queue/index.js';
import { tryParseReference } from '../reference/index.js';

export interface RefreshTarget {
  ref: string;
  /** Upstream registry host (`docker.io`, `ghcr.io`, `localhost:5000`): budgets are per host. */
  host: string;
  record: ImageRecord;
}

/**
 * A target, or undefined. Targets: `mirrored` records (not blocked) of a tag
 * reference (a digest reference cannot move). Not targets: records a watch
 * owns (`source: watch`: the watch polls its tag itself, and its retention
 * keeps count of the digests it held) and imported ones (`source: import`:
 * their content came from a tarball, which an upstream tag of the same
 * name must never overwrite).
 */
export function refreshTarget(r: ImageRecord): RefreshTarget | undefined {
  if (r.state !== 'mirrored' || r.blockedReason || !r.digest) return undefined;
  if (r.source === 'watch' || r.source === 'import') return undefined;
  const p = tryParseReference(r.ref);
  if (p instanceof Error || !p.tag || p.digest) return undefined;
  return { ref: r.ref, host: p.domain, record: r };
}

export interface RefreshBatch {
  host: string;
  /** In the order to check them. */
  targets: RefreshTarget[];
}

export interface RefreshSelection {
  batches: RefreshBatch[];
  /** Over a host's budget: checked in a later run (they are then the least recently checked). */
  deferred: RefreshTarget[];
}

/** `lastChecked`: ref -> ms of its last check (never checked: absent, so first). */
export function selectForRun(targets: readonly RefreshTarget[], lastChecked: ReadonlyMap<string, number>, maxPerHost: number): RefreshSelection {
  const byHost = new Map<string, RefreshTarget[]>();
  for (const t of targets) {
    const list = byHost.get(t.host);
    if (list) list.push(t);
    else byHost.set(t.host, [t]);
  }
  const batches: RefreshBatch[] = [];
  const deferred: RefreshTarget[] = [];
  for (const host of [...byHost.keys()].sort()) {
    const ordered = byHost.get(host)!.sort((a, b) => (lastChecked.get(a.ref) ?? -1) - (lastChecked.get(b.ref) ?? -1) || (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
    batches.push({ host, targets: ordered.slice(0, Math.max(0, maxPerHost)) });
    deferred.push(...ordered.slice(Math.max(0, maxPerHost)));
  }
  return { batches, deferred };
}

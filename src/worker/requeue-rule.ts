/**
 * SPEC: an image in `error` gets no automatic retries "until a retry is asked
 * for, or the config changes". The rule (pure), applied by the worker on every
 * config reload to each record in `error`:
 *
 * - `copy.platforms`, `copy.platformMode` or `mirror.*` changed -> re-enqueue every `error` image
 *   (a NO_MATCHING_PLATFORM / mirror-side DENIED etc. may now succeed);
 * - `registries.<host>` changed for the image's upstream host (Docker Hub's
 *   aliases count as one host), or `registries."*"` changed -> re-enqueue it
 *   (credentials / endpoint / TLS fixed);
 * - `queue.maxAttempts` grew -> re-enqueue images that ran out of attempts
 *   (attempts >= their maxAttempts < the new maxAttempts). Images that failed
 *   permanently (attempts < maxAttempts) are not: more attempts cannot help.
 *
 * Re-enqueue = Producer.enqueueNow({ force: true }): a fresh `queued` record
 * (attempts 0, new maxAttempts and mirrorRef) and a new job.
 */
import type { FerryConfig } from '../config/index.js';
import type { ImageRecord } from '../queue/index.js';
import { tryParseReference } from '../reference/index.js';

export interface ConfigChange {
  copyTargetChanged: boolean;
  registriesChanged: Set<string>;
  maxAttemptsGrew: boolean;
  newMaxAttempts: number;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
/** `registries` keys that configure what normalized references call `docker.io`. */
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export function diffConfig(prev: FerryConfig, next: FerryConfig): ConfigChange {
  const registriesChanged = new Set<string>();
  for (const host of new Set([...Object.keys(prev.registries), ...Object.keys(next.registries)])) {
    if (!same(prev.registries[host], next.registries[host])) registriesChanged.add(DOCKER_HUB_ALIASES.has(host) ? 'docker.io' : host);
  }
  return {
    copyTargetChanged:
      !same([...prev.copy.platforms].sort(), [...next.copy.platforms].sort()) || prev.copy.platformMode !== next.copy.platformMode || !same(prev.mirror, next.mirror),
    registriesChanged,
    maxAttemptsGrew: next.queue.maxAttempts > prev.queue.maxAttempts,
    newMaxAttempts: next.queue.maxAttempts,
  };
}

export function hasRelevantChange(c: ConfigChange): boolean {
  return c.copyTargetChanged || c.registriesChanged.size > 0 || c.maxAttemptsGrew;
}

/** Upstream host of a reference (`docker.io/library/x:1` -> `docker.io`), by src/reference's grammar; undefined when it does not parse. */
export function hostOf(ref: string): string | undefined {
  const r = tryParseReference(ref);
  return r instanceof Error ? undefined : r.domain;
}

/** Why `record` should be re-enqueued after `change`, or undefined. */
export function requeueReason(record: Pick<ImageRecord, 'ref' | 'state' | 'attempts' | 'maxAttempts'>, c: ConfigChange): string | undefined {
  if (record.state !== 'error') return undefined;
  if (c.copyTargetChanged) return 'copy.platforms, copy.platformMode or mirror changed';
  const host = hostOf(record.ref);
  if (host !== undefined && c.registriesChanged.has(host)) return `registries.${host} changed`;
  if (c.registriesChanged.has('*')) return 'registries."*" changed';
  if (c.maxAttemptsGrew && record.attempts >= record.maxAttempts && c.newMaxAttempts > record.maxAttempts) return 'queue.maxAttempts raised';
  return undefined;
}

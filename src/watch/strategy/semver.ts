/**
 * `semver` strategy (pure): the highest tag satisfying `constraint`.
 *
 * Which tags are versions (documented in docs/watch.md):
 *  1. Full SemVer 2.0 (`1.2.3`, `1.2.3-rc.1`), optionally with a leading `v`
 *     or `V` (`v1.2.3`). Parsed strictly: no leading zeros, nothing after it.
 *  2. One or two numeric parts (`1`, `1.2`, `v1.2`) are completed with `.0`
 *     (what `semver.coerce` does), so `1.2` is 1.2.0. Only these exact
 *     shapes: `1.2-alpine`, `1.2.3.4`, `2024.01` with a leading zero,
 *     `latest`, `stable` are NOT versions and never selected. (`semver.coerce`
 *     would read `1.2-alpine` as 1.2.0 and mix image variants, so it is not
 *     applied to arbitrary tags.)
 *  3. A SemVer prerelease (`1.2.3-rc.1`, and also `1.2.3-alpine`, which SemVer
 *     reads as a prerelease) is a candidate only with `prerelease: true`; then
 *     ranges match prereleases of any version (`includePrerelease`).
 *  4. Ties (`1.2`, `1.2.0`, `v1.2.0` are all 1.2.0): the tag with more written
 *     parts wins, then the one without `v`, then the higher string.
 * No constraint means any version (`*`).
 */
import semver from 'semver';
import { watchError } from '../errors.js';
import type { Selection } from './types.js';

export interface TagVersion {
  tag: string;
  version: semver.SemVer;
  /** How many numeric parts the tag wrote (2 for `1.2`). */
  parts: 1 | 2 | 3;
  vPrefix: boolean;
}

const SHORT = /^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$/;

export function parseTagVersion(tag: string): TagVersion | undefined {
  const vPrefix = tag.startsWith('v') || tag.startsWith('V');
  const body = vPrefix ? tag.slice(1) : tag;
  if (!/^\d/.test(body)) return undefined;
  const full = semver.valid(body) ? semver.parse(body) : null;
  if (full) return { tag, version: full, parts: 3, vPrefix };
  const m = SHORT.exec(body);
  if (!m) return undefined;
  const v = semver.parse(`${m[1]}.${m[2] ?? '0'}.0`);
  return v ? { tag, version: v, parts: m[2] === undefined ? 1 : 2, vPrefix } : undefined;
}

export interface SemverOptions {
  constraint?: string | undefined;
  prerelease?: boolean | undefined;
}

export function compileRange(constraint: string | undefined, prerelease: boolean | undefined): semver.Range {
  const raw = constraint?.trim() || '*';
  try {
    return new semver.Range(raw, { includePrerelease: prerelease === true });
  } catch (e) {
    throw watchError('CONSTRAINT', `constraint ${JSON.stringify(constraint)} is not a semver range: ${(e as Error).message}`);
  }
}

/** Orders two versions; > 0 when `a` is preferred. */
export function compareTagVersions(a: TagVersion, b: TagVersion): number {
  return (
    semver.compare(a.version, b.version) ||
    a.parts - b.parts ||
    Number(b.vPrefix) - Number(a.vPrefix) ||
    (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0)
  );
}

export function selectSemver(tags: readonly string[], o: SemverOptions): Selection {
  const range = compileRange(o.constraint, o.prerelease);
  let best: TagVersion | undefined;
  let versions = 0;
  for (const tag of tags) {
    const v = parseTagVersion(tag);
    if (!v) continue;
    versions++;
    if (v.version.prerelease.length > 0 && o.prerelease !== true) continue;
    if (!range.test(v.version)) continue;
    if (!best || compareTagVersions(v, best) > 0) best = v;
  }
  if (best) return { tag: best.tag, considered: tags.length, reason: `${best.tag} is the highest of ${versions} version tags satisfying "${range.raw || '*'}"` };
  return { tag: undefined, considered: tags.length, reason: `no tag satisfies "${o.constraint?.trim() || '*'}" (${tags.length} tags after filters, ${versions} of them versions${o.prerelease ? '' : ', prereleases excluded'})` };
}

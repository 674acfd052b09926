/**
 * `semver` strategy (pure): the highest version tag satisfying `constraint`,
 * as argocd-image-updater (AIU) selects it (docs/tag-selection.md):
 *  1. Tags are versions as Masterminds `NewVersion` reads them (version.ts):
 *     `1.2.3`, `v1.2.3`, `1.2` (1.2.0), `1` (1.0.0), `1.2.3-rc.1`,
 *     `1.2-alpine` (a prerelease); not `1.2.3.4`, `latest`, `V1`.
 *  2. The constraint has Masterminds/semver v3 semantics (constraint.ts);
 *     none means `*`, any release.
 *  3. A prerelease satisfies the constraint only when the constraint's AND
 *     group names a prerelease (`>=1.2.3-0`), or with ferry's
 *     `prerelease: true` (prereleases everywhere, Masterminds'
 *     `IncludePrerelease`).
 *  4. Highest by SemVer precedence (build metadata ignored); ties (`1.2`,
 *     `1.2.0`, `v1.2.0`, `1.2.0+b`) go to the tag that sorts last as a plain
 *     string, AIU's order: `v1.2.0` beats `1.2.0` beats `1.2`.
 */
import type semver from 'semver';
import { parseConstraint, type Constraint } from './constraint.js';
import type { Selection } from './types.js';
import { parseVersionParts } from './version.js';

export type { Constraint } from './constraint.js';

export interface TagVersion {
  tag: string;
  version: semver.SemVer;
  /** How many numeric parts the tag wrote (2 for `1.2`). */
  parts: 1 | 2 | 3;
  vPrefix: boolean;
}

export function parseTagVersion(tag: string): TagVersion | undefined {
  const p = parseVersionParts(tag);
  return p ? { tag, ...p } : undefined;
}

export interface SemverOptions {
  constraint?: string | undefined;
  prerelease?: boolean | undefined;
}

/** Compiles a constraint (none = `*`); throws FERRY_ERR_WATCH_CONSTRAINT. */
export function compileRange(constraint: string | undefined, prerelease: boolean | undefined): Constraint {
  return parseConstraint(constraint, prerelease === true);
}

/** Orders two version tags; > 0 when `a` is preferred (AIU: precedence, then the tag string). */
export function compareTagVersions(a: TagVersion, b: TagVersion): number {
  return a.version.compare(b.version) || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0);
}

export function selectSemver(tags: readonly string[], o: SemverOptions): Selection {
  const range = compileRange(o.constraint, o.prerelease);
  let best: TagVersion | undefined;
  let versions = 0;
  for (const tag of tags) {
    const v = parseTagVersion(tag);
    if (!v) continue;
    versions++;
    if (!range.test(v.version)) continue;
    if (!best || compareTagVersions(v, best) > 0) best = v;
  }
  if (best) return { tag: best.tag, considered: tags.length, reason: `${best.tag} is the highest of ${versions} version tags satisfying "${range.raw}"` };
  const pre = o.prerelease ? '' : ', prereleases only where the constraint names one';
  return { tag: undefined, considered: tags.length, reason: `no tag satisfies "${range.raw}" (${tags.length} tags after filters, ${versions} of them versions${pre})` };
}

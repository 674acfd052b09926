/**
 * Version constraints with the semantics of Masterminds/semver v3.4.0, the
 * library argocd-image-updater (AIU) checks `semver` constraints with (pure).
 *
 * Why not npm `semver` ranges: on releases the two agree (bare `1.2` is
 * ~1.2, `>1.2` is >=1.3.0, `^0.x`, hyphen ranges), but npm cannot read what
 * AIU users write and disagrees on prereleases, and no `semver.Range`
 * option changes that:
 *  - syntax npm rejects: `,` as AND (`>=1.2, <2`), `!=`, `=>`/`=<`, a
 *    prerelease on a wildcard (`*-0`, `~1.2-0`);
 *  - prereleases: Masterminds lets a prerelease version satisfy an AND group
 *    as soon as ONE comparator of that group names a prerelease (`>=1.2.3-0`
 *    accepts 2.0.0-rc.1); npm only accepts prereleases of the very
 *    major.minor.patch a comparator names, and `includePrerelease` is all or
 *    nothing;
 *  - Masterminds' edge cases: `~0.0.0` is "any", `^*` is 0.0.0 only.
 * So this module parses the constraint itself (same grammar, written from
 * Masterminds' constraints.go and README) and evaluates it over npm
 * `semver`'s SemVer objects (their precedence order is SemVer 2.0's, which
 * Masterminds' `Compare` follows too). It agrees with every Check/Validate
 * row of Masterminds' constraints_test.go (checked while writing it).
 */
import semver from 'semver';
import { watchError } from '../errors.js';
import { parseVersionText } from './version.js';

type Op = '' | '=' | '!=' | '>' | '<' | '>=' | '=>' | '<=' | '=<' | '~' | '~>' | '^';

interface Comparator {
  op: Op;
  /** The version as written (`1.2.x`), for messages. */
  written: string;
  /** The version compared against, wildcards replaced by 0 (`1.2.0`). */
  base: semver.SemVer;
  /** A wildcard or a missing part anywhere (`1.2`, `1.x`, `*`). */
  dirty: boolean;
  /** The minor part was a wildcard or missing (`1`, `1.x`). */
  minorDirty: boolean;
  /** The patch part was a wildcard or missing (`1.2`, `1.2.x`). */
  patchDirty: boolean;
}

interface AndGroup {
  comparators: Comparator[];
  /** One comparator names a prerelease: prereleases may satisfy this group. */
  namesPrerelease: boolean;
}

export interface Constraint {
  /** The constraint as configured (`*` when none was). */
  raw: string;
  /** True when some version satisfies it; `prerelease: true` is already applied. */
  test(v: semver.SemVer): boolean;
}

// The grammar. A part is digits or a wildcard (`x`, `X`, `*`); prerelease
// and build identifiers are alphanumerics and `-`, dot separated.
const PART = '[0-9xX*]+';
const IDENTS = '[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*';
const VERSION = `v?(${PART})(\\.${PART})?(\\.${PART})?(-${IDENTS})?(?:\\+${IDENTS})?`;
const VERSION_NC = `v?${PART}(?:\\.${PART})?(?:\\.${PART})?(?:-${IDENTS})?(?:\\+${IDENTS})?`;
// Longest operators first; the empty operator last (it means `=`).
const OPS = '>=|=>|<=|=<|!=|~>|=|>|<|~|\\^|';
const ONE = new RegExp(`^\\s*(${OPS})\\s*(${VERSION})\\s*$`);
const FIND = new RegExp(`(?:${OPS})\\s*${VERSION_NC}`, 'g');
const GROUP_SYNTAX = new RegExp(`^\\s*(?:${OPS})\\s*${VERSION_NC}\\s*(?:(?:\\s+|,\\s*)(?:${OPS})\\s*${VERSION_NC}\\s*)*$`);
// `A - B` (spaces required around the hyphen: `1.2-1.4.5` is version 1.2.0-1.4.5).
const HYPHEN = new RegExp(`\\s*(${VERSION_NC})\\s+-\\s+(${VERSION_NC})\\s*`, 'g');

const isWildcard = (s: string | undefined): boolean => s === 'x' || s === 'X' || s === '*';

function badConstraint(constraint: string | undefined, why: string): Error {
  return watchError(
    'CONSTRAINT',
    `constraint ${JSON.stringify(constraint)} is not a semver constraint: ${why}`,
    undefined,
    'write a Masterminds/semver constraint as argocd-image-updater takes it, e.g. "1.2" (=~1.2), "^1.27", ">=1.2, <2", "1.2 - 1.4.5", ">=1.0.0-0" (with prereleases); see docs/tag-selection.md',
  );
}

function parseComparator(text: string, constraint: string | undefined): Comparator {
  const m = ONE.exec(text);
  if (!m) throw badConstraint(constraint, `cannot read "${text.trim()}"`);
  const op = m[1] as Op;
  const written = m[2]!;
  const [major, dotMinor, dotPatch, dashPre] = [m[3]!, m[4], m[5], m[6] ?? ''];
  let text3 = written;
  let minorDirty = false;
  let patchDirty = false;
  let dirty = false;
  if (isWildcard(major)) {
    text3 = `0.0.0${dashPre}`;
    dirty = true;
  } else if (dotMinor === undefined || isWildcard(dotMinor.slice(1))) {
    text3 = `${major}.0.0${dashPre}`;
    dirty = minorDirty = true;
  } else if (dotPatch === undefined || isWildcard(dotPatch.slice(1))) {
    text3 = `${major}${dotMinor}.0${dashPre}`;
    dirty = patchDirty = true;
  }
  const base = parseVersionText(text3);
  if (!base) throw badConstraint(constraint, `"${written}" is not a version`);
  return { op, written, base, dirty, minorDirty, patchDirty };
}

/** Parses a Masterminds constraint; throws FERRY_ERR_WATCH_CONSTRAINT. */
export function parseConstraint(constraint: string | undefined, includePrerelease: boolean): Constraint {
  const raw = constraint === undefined || constraint.trim() === '' ? '*' : constraint;
  const rewritten = raw.replace(HYPHEN, (_all, from: string, to: string) => `>= ${from}, <= ${to} `);
  const groups: AndGroup[] = rewritten.split('||').map((segment) => {
    if (!GROUP_SYNTAX.test(segment)) throw badConstraint(constraint, `improper constraint "${segment.trim()}"`);
    const comparators = (segment.match(FIND) ?? []).map((c) => parseComparator(c, constraint));
    return { comparators, namesPrerelease: comparators.some((c) => c.base.prerelease.length > 0) };
  });
  return {
    raw,
    test: (v) => groups.some((g) => g.comparators.every((c) => satisfies(v, c, includePrerelease || g.namesPrerelease))),
  };
}

function satisfies(v: semver.SemVer, c: Comparator, prereleaseOk: boolean): boolean {
  if (v.prerelease.length > 0 && !prereleaseOk) return false;
  const cmp = semver.compare(v, c.base);
  const b = c.base;
  switch (c.op) {
    case '':
    case '=':
      return c.dirty ? tilde(v, c, cmp) : cmp === 0;
    case '!=':
      return notEqual(v, c, cmp);
    case '>':
      if (!c.dirty) return cmp > 0;
      if (v.major !== b.major) return v.major > b.major;
      if (c.minorDirty) return false; // `>1` needs 2.0.0 or higher
      if (c.patchDirty) return v.minor > b.minor; // `>1.2` needs 1.3.0 or higher
      return cmp > 0;
    case '<':
      return cmp < 0;
    case '>=':
    case '=>':
      return cmp >= 0;
    case '<=':
    case '=<':
      if (!c.dirty) return cmp <= 0;
      // `<=1.2` is "anything up to 1.2.x", `<=1` "anything up to 1.x.y".
      if (v.major > b.major) return false;
      return !(v.major === b.major && v.minor > b.minor && !c.minorDirty);
    case '~':
    case '~>':
      return tilde(v, c, cmp);
    case '^':
      return caret(v, c, cmp);
  }
}

function tilde(v: semver.SemVer, c: Comparator, cmp: number): boolean {
  if (cmp < 0) return false;
  const b = c.base;
  // `~0.0.0` and `~*` accept everything (Masterminds' special case).
  if (b.major === 0 && b.minor === 0 && b.patch === 0 && !c.minorDirty && !c.patchDirty) return true;
  if (v.major !== b.major) return false;
  return c.minorDirty || v.minor === b.minor;
}

function caret(v: semver.SemVer, c: Comparator, cmp: number): boolean {
  if (cmp < 0) return false;
  const b = c.base;
  if (b.major > 0 || c.minorDirty) return v.major === b.major; // ^1.2.3, ^0, ^1
  if (v.major > 0) return false;
  if (b.minor > 0 || c.patchDirty) return v.minor === b.minor; // ^0.2.3, ^0.0
  if (v.minor > 0) return false;
  return v.patch === b.patch; // ^0.0.3 (and ^*, which so matches only 0.0.0)
}

function notEqual(v: semver.SemVer, c: Comparator, cmp: number): boolean {
  const b = c.base;
  if (c.dirty) {
    if (v.major !== b.major) return true;
    if (c.minorDirty) return false; // `!=1.x`: no 1.*
    if (v.minor !== b.minor) return true;
    if (c.patchDirty) {
      // `!=1.2`: no 1.2.*, except prereleases that differ from the constraint's
      return v.prerelease.join('.') !== b.prerelease.join('.');
    }
    if (v.patch !== b.patch) return true;
  }
  return cmp !== 0;
}

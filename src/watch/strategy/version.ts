/**
 * Which strings are versions, read as Masterminds/semver v3.4.0 `NewVersion`
 * reads them (its default, non-strict mode), which is how
 * argocd-image-updater reads tags (pure):
 *  - an optional lowercase `v`, then one to three numeric parts: `1.2.3`,
 *    `v1.2.3`, `1.2` (1.2.0), `1` (1.0.0); leading zeros are accepted and
 *    dropped (`01.02` is 1.2.0);
 *  - then optionally a prerelease (`-rc.1`; so `1.2-alpine` is 1.2.0 with
 *    prerelease `alpine`) and build metadata (`+build.7`); numeric
 *    prerelease identifiers may not have leading zeros (`1.2.3-01` is not a
 *    version), no identifier may be empty;
 *  - nothing else: `1.2.3.4`, `V1.2.3`, `latest`, `stable`, `1.2.3_x` are not
 *    versions.
 * The result is an npm `semver` SemVer (numbers normalised), so its
 * precedence order (SemVer 2.0 section 11, build metadata ignored) is the
 * one Masterminds' `Compare` uses. A part above 2^53-1 is not a version
 * here (Masterminds allows up to 2^64-1).
 */
import semver from 'semver';

const IDENTS = '[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*';
const LOOSE = new RegExp(`^(v?)([0-9]+)(?:\\.([0-9]+))?(?:\\.([0-9]+))?(?:-(${IDENTS}))?(?:\\+(${IDENTS}))?$`);

export interface ParsedVersion {
  version: semver.SemVer;
  /** Numeric parts written: 2 for `1.2`. */
  parts: 1 | 2 | 3;
  vPrefix: boolean;
}

export function parseVersionParts(text: string): ParsedVersion | undefined {
  const m = LOOSE.exec(text);
  if (!m) return undefined;
  const nums = [m[2]!, m[3] ?? '0', m[4] ?? '0'].map(Number);
  if (nums.some((n) => !Number.isSafeInteger(n))) return undefined;
  const pre = m[5];
  if (pre !== undefined && pre.split('.').some((id) => /^0\d/.test(id) && /^\d+$/.test(id))) return undefined;
  const normal = `${nums.join('.')}${pre !== undefined ? `-${pre}` : ''}${m[6] !== undefined ? `+${m[6]}` : ''}`;
  let version: semver.SemVer;
  try {
    version = new semver.SemVer(normal);
  } catch {
    return undefined;
  }
  return { version, parts: m[4] !== undefined ? 3 : m[3] !== undefined ? 2 : 1, vPrefix: m[1] === 'v' };
}

export function parseVersionText(text: string): semver.SemVer | undefined {
  return parseVersionParts(text)?.version;
}

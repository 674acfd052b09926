/**
 * `alphabetical` strategy (pure): the tag that sorts last, comparing UTF-16
 * code units (plain `<`, no locale, no natural number order: `9` sorts after
 * `10`). Meant for fixed-width tags such as `2024-06-01`, `RELEASE.2024-...`
 * or `20240601T1200Z`; use `semver` for version numbers.
 */
import type { Selection } from './types.js';

export function selectAlphabetical(tags: readonly string[]): Selection {
  let best: string | undefined;
  for (const t of tags) if (best === undefined || t > best) best = t;
  return best === undefined
    ? { tag: undefined, considered: 0, reason: 'no tag left after filters' }
    : { tag: best, considered: tags.length, reason: `${best} sorts last of ${tags.length} tags` };
}

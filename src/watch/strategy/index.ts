/**
 * Tag selection, pure (no I/O): filters, then one strategy. The poller
 * gathers the inputs (tag list, `created` times) and resolves digests.
 */
import type { WatchStrategy } from '../../config/types.js';
import { selectAlphabetical } from './alphabetical.js';
import { selectDigestTag } from './digest.js';
import { compileTagFilter, type TagFilterOptions } from './filter.js';
import { selectNewest } from './newest.js';
import { selectSemver } from './semver.js';
import type { Selection, TagCreated } from './types.js';

export { compileTagFilter, compileAllowTags, filterTags, type TagFilterOptions, type TagPredicate } from './filter.js';
export { selectSemver, parseTagVersion, compileRange, compareTagVersions, type TagVersion, type SemverOptions, type Constraint } from './semver.js';
export { parseVersionText } from './version.js';
export { selectAlphabetical } from './alphabetical.js';
export { selectNewest } from './newest.js';
export { selectDigestTag } from './digest.js';
export type { Selection, TagCreated } from './types.js';

export interface SelectInput extends TagFilterOptions {
  strategy: WatchStrategy;
  /** `digest`: the followed tag. */
  tag?: string | undefined;
  constraint?: string | undefined;
  prerelease?: boolean | undefined;
  /** Every upstream tag (not needed for `digest`). */
  tags?: readonly string[];
  /** `newest`: created times of (already filtered) tags. */
  created?: readonly TagCreated[];
}

export function selectTag(i: SelectInput): Selection {
  const allowed = compileTagFilter(i);
  switch (i.strategy) {
    case 'digest':
      return selectDigestTag(i.tag ?? 'latest', allowed);
    case 'semver':
      return selectSemver((i.tags ?? []).filter(allowed), i);
    case 'alphabetical':
      return selectAlphabetical((i.tags ?? []).filter(allowed));
    case 'newest':
      return selectNewest((i.created ?? []).filter((c) => allowed(c.tag)));
  }
}

export type ChangeKind = 'initial' | 'new-tag' | 'moved' | 'unchanged';

export interface Selected {
  tag: string;
  digest: string;
}

/** What happened since the last poll: first selection, another tag, or the same tag at a new digest. */
export function detectChange(prev: Selected | undefined | null, next: Selected): ChangeKind {
  if (!prev) return 'initial';
  if (prev.tag !== next.tag) return 'new-tag';
  return prev.digest === next.digest ? 'unchanged' : 'moved';
}

/**
 * `digest` strategy (pure): follow ONE tag; a change is the tag moving to a
 * new digest. The filters still apply: a tag they reject selects nothing.
 */
import type { TagPredicate } from './filter.js';
import type { Selection } from './types.js';

export function selectDigestTag(tag: string, allowed: TagPredicate): Selection {
  return allowed(tag)
    ? { tag, considered: 1, reason: `following tag ${tag}` }
    : { tag: undefined, considered: 0, reason: `tag ${tag} is excluded by allowTags/ignoreTags` };
}

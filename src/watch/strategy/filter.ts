/**
 * Tag filters applied before every strategy (pure):
 *  - `allowTags`: a JavaScript regular expression, tested (unanchored, like
 *    `RegExp.test`) against the whole tag; only matching tags stay. Anchor it
 *    yourself (`^v?\d+\.\d+\.\d+$`) to match whole tags.
 *  - `ignoreTags`: picomatch globs matched against the whole tag; a tag
 *    matching any of them is dropped (`*-rc*`, `latest`, `sha-*`).
 * Invalid regular expressions throw FERRY_ERR_WATCH_ALLOW_TAGS.
 */
import picomatch from 'picomatch';
import { watchError } from '../errors.js';

export interface TagFilterOptions {
  allowTags?: string | undefined;
  ignoreTags?: readonly string[] | undefined;
}

export type TagPredicate = (tag: string) => boolean;

export function compileTagFilter(o: TagFilterOptions): TagPredicate {
  let allow: RegExp | undefined;
  if (o.allowTags !== undefined && o.allowTags !== '') {
    try {
      allow = new RegExp(o.allowTags);
    } catch (e) {
      throw watchError('ALLOW_TAGS', `allowTags ${JSON.stringify(o.allowTags)} is not a valid regular expression: ${(e as Error).message}`);
    }
  }
  const ignore = (o.ignoreTags ?? []).length ? picomatch([...(o.ignoreTags ?? [])], { dot: true }) : undefined;
  return (tag) => (!allow || allow.test(tag)) && !(ignore && ignore(tag));
}

export function filterTags(tags: readonly string[], o: TagFilterOptions): string[] {
  const keep = compileTagFilter(o);
  return tags.filter(keep);
}

/**
 * Tag filters applied before every strategy (pure), with
 * argocd-image-updater's (AIU) syntax (docs/tag-selection.md):
 *  - `allowTags`:
 *     `any` (any case): every tag;
 *     `regexp:<expr>` (prefix in any case, as AIU): a regular expression
 *       tested unanchored against the tag, like Go's `MatchString`; a
 *       leading `(?i)`/`(?s)`/`(?m)` flag group (RE2 syntax) becomes the
 *       JavaScript flag;
 *     anything else: ferry's original form, a JavaScript regular expression
 *       (AIU would match nothing for a value without `regexp:`).
 *  - `ignoreTags`: globs over the whole tag; a tag matching any is dropped
 *    (`*-rc*`, `latest`, `tag?`, `[0-9]*`). Matched by picomatch, which
 *    agrees with Go's `filepath.Match` (AIU) on `*`, `?`, `[a-z]`, `[^a]`,
 *    `[!a]` (no negation in either) and `\` escapes; picomatch alone also
 *    knows `{a,b}`, extglobs and a leading `!` (characters no tag contains).
 * Invalid regular expressions throw FERRY_ERR_WATCH_ALLOW_TAGS (AIU logs
 * and matches nothing).
 */
import picomatch from 'picomatch';
import { watchError } from '../errors.js';

export interface TagFilterOptions {
  allowTags?: string | undefined;
  ignoreTags?: readonly string[] | undefined;
}

export type TagPredicate = (tag: string) => boolean;

const REGEXP_PREFIX = /^regexp:/i;
const RE2_FLAGS = /^\(\?([ims]+)\)/;

/** The allowTags matcher, or undefined when every tag is allowed. */
export function compileAllowTags(allowTags: string | undefined): RegExp | undefined {
  if (allowTags === undefined || allowTags === '' || allowTags.toLowerCase() === 'any') return undefined;
  const prefixed = REGEXP_PREFIX.test(allowTags);
  let source = prefixed ? allowTags.replace(REGEXP_PREFIX, '') : allowTags;
  let flags = '';
  const f = prefixed ? RE2_FLAGS.exec(source) : null;
  if (f) {
    flags = [...new Set(f[1])].join('');
    source = source.slice(f[0].length);
  }
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw watchError(
      'ALLOW_TAGS',
      `allowTags ${JSON.stringify(allowTags)} is not a valid regular expression: ${(e as Error).message}`,
      undefined,
      'allowTags is "any", "regexp:<expression>" (as in argocd-image-updater) or a JavaScript regular expression; it matches anywhere in the tag unless anchored (^...$)',
    );
  }
}

export function compileTagFilter(o: TagFilterOptions): TagPredicate {
  const allow = compileAllowTags(o.allowTags);
  const ignore = (o.ignoreTags ?? []).length ? picomatch([...(o.ignoreTags ?? [])], { dot: true }) : undefined;
  return (tag) => (!allow || allow.test(tag)) && !(ignore && ignore(tag));
}

export function filterTags(tags: readonly string[], o: TagFilterOptions): string[] {
  const keep = compileTagFilter(o);
  return tags.filter(keep);
}

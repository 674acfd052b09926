/**
 * Error codes raised by `src/watch` (`FERRY_ERR_WATCH_<WHAT>`), one table:
 * API status, what the code means and the hint shown to the operator.
 */
import { defineErrors, type FerryError } from '../errors.js';

export const WATCH_ERROR_TABLE = defineErrors('WATCH', {
  NOT_FOUND: { status: 404, meaning: 'no watch has this id', hint: 'GET /api/watches lists the watch ids (config-file watches without an id get a derived one)' },
  READ_ONLY: {
    status: 409,
    meaning: 'the API was asked to change or delete a watch that comes from the config file',
    hint: 'this watch comes from the config file; edit the `watch:` list there (the API edits only watches it created)',
  },
  INVALID: {
    status: 400,
    meaning: 'a watch definition (API body or config) that is incomplete or wrong; every problem is listed',
    hint: 'a watch needs image, strategy (digest|semver|newest|alphabetical) and schedule (cron); see docs/watch.md',
  },
  CONSTRAINT: { status: 400, meaning: 'a semver constraint (Masterminds/semver syntax, as argocd-image-updater) that cannot be parsed', hint: 'e.g. "1.2" (=~1.2), "^1.27", ">=1.2, <2", "1.2 - 1.4.5", ">=1.0.0-0"; see docs/tag-selection.md' },
  ALLOW_TAGS: { status: 400, meaning: 'allowTags is not a valid regular expression', hint: 'allowTags is "any", "regexp:<expression>" or a JavaScript regular expression; unanchored unless you write ^...$' },
  HOOK_INVALID: {
    status: 400,
    meaning: 'POST /hooks/registry got something that is not a registry webhook ferry recognizes (distribution/GitLab registry notifications, Docker Hub, Harbor, GitHub packages, Quay), or one missing what ferry needs',
    hint: "POST one of the formats in docs/hooks.md; the answer's hint and details.accepted list them",
  },
  ALIAS_CONFLICT: {
    meaning: 'a watch\'s alias names a tag the watched repository has upstream (or the mirror holds for pods), so the alias would fight with that mirrored tag; the alias is not moved',
    hint: 'pick an alias that is not an upstream tag of the image, e.g. `ferry-stable` instead of `stable`',
  },
  ALIAS_FAILED: {
    meaning: 'moving a watch\'s alias tag in the mirror failed (reading the mirrored manifest or putting it under the alias); the alias stays where it was and the next poll or copy tries again',
    hint: 'read alias.error in GET /api/watches/<id>; check that ferry can push to the mirror repository',
  },
  // The two below are never thrown as FerryErrors: they name failures that were not
  // FerryErrors (a bug, a library's error) in a watch API answer and in a poll report.
  INTERNAL: {
    status: 500,
    meaning: 'the watch API failed on something other than a ferry error (its message is in the answer and the log)',
    hint: 'look for "watch API failed" in the log; report it if it persists',
  },
  POLL: {
    meaning: 'a poll failed with something other than a ferry error; the watch status and log carry its message',
    hint: 'read the message in the watch status (GET /api/watches/<id>); the watch polls again at its next schedule',
  },
});

export type WatchErrorKind = keyof typeof WATCH_ERROR_TABLE.specs;
/** kind -> `FERRY_ERR_WATCH_<kind>` */
export const WATCH_ERROR_CODES = WATCH_ERROR_TABLE.codes;

/** `hint` replaces the table's when the caller knows better (e.g. what the route at hand takes). */
export function watchError(kind: WatchErrorKind, message: string, details?: Record<string, unknown>, hint?: string): FerryError {
  return WATCH_ERROR_TABLE.create(kind, message, { ...(hint !== undefined ? { hint } : {}), ...(details ? { details } : {}) });
}

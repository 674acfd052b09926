/**
 * Error codes raised by `src/watch` (`FERRY_ERR_WATCH_<WHAT>`), one table:
 * API status and the hint shown to the operator.
 */
import { FerryError } from '../errors.js';

export type WatchErrorKind = 'NOT_FOUND' | 'READ_ONLY' | 'INVALID' | 'CONSTRAINT' | 'ALLOW_TAGS' | 'HOOK_INVALID';

const TABLE: Readonly<Record<WatchErrorKind, { status: number; hint: string }>> = {
  NOT_FOUND: { status: 404, hint: 'GET /api/watches lists the watch ids (config-file watches without an id get a derived one)' },
  READ_ONLY: { status: 409, hint: 'this watch comes from the config file; edit the `watch:` list there (the API edits only watches it created)' },
  INVALID: { status: 400, hint: 'a watch needs image, strategy (digest|semver|newest|alphabetical) and schedule (cron); see docs/watch.md' },
  CONSTRAINT: { status: 400, hint: 'use a node-semver range, e.g. "^1.27", ">=1.2 <2", "~1.4.0"' },
  ALLOW_TAGS: { status: 400, hint: 'allowTags is a JavaScript regular expression tested against each tag (anchor it with ^...$)' },
  HOOK_INVALID: {
    status: 400,
    hint: 'POST a docker-registry notification envelope: {"events":[{"action":"push","target":{"repository":"...","tag":"..."},"request":{"host":"..."}}]}',
  },
};

/** `hint` replaces the table's when the caller knows better (e.g. what the route at hand takes). */
export function watchError(kind: WatchErrorKind, message: string, details?: Record<string, unknown>, hint?: string): FerryError {
  const e = TABLE[kind];
  return new FerryError(`FERRY_ERR_WATCH_${kind}`, message, { hint: hint ?? e.hint, status: e.status, ...(details ? { details } : {}) });
}

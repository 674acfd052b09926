/**
 * Error codes raised by `src/access` (the guard in front of every mutating
 * HTTP route). The two `DASHBOARD` codes keep the names the dashboard API has
 * always answered with: they are named after the setting that decides them
 * (`dashboard.token`), which now guards the watch API too. They are defined
 * here, not in src/dashboard, because the dashboard depends on this folder and
 * not the other way round; docs/errors.md lists them with the other
 * DASHBOARD codes.
 */
import { defineErrors, type FerryError } from '../errors.js';

export const GUARD_ERROR_TABLE = defineErrors('DASHBOARD', {
  UNAUTHORIZED: {
    status: 401,
    meaning: '`dashboard.token` is set and the request did not carry it',
    hint: 'send an Authorization header "Bearer <token>", where <token> is the value of dashboard.token (FERRY_DASHBOARD_TOKEN)',
  },
  NO_TOKEN_REMOTE: {
    status: 403,
    meaning: 'no `dashboard.token`, and the caller is not on this machine, or a browser request came from another site or a non-loopback Host',
    hint: 'open the dashboard as http://127.0.0.1:<port>/ or http://localhost:<port>/, or set dashboard.token (FERRY_DASHBOARD_TOKEN) and send Authorization: Bearer <token>',
  },
});

export const HOOKS_ERROR_TABLE = defineErrors('HOOKS', {
  UNAUTHORIZED: {
    status: 401,
    meaning: '`hooks.secret` is set and `POST /hooks/registry` did not carry it',
    // Phrased so that log/secret masking (which blanks `Authorization: <value>`) leaves the instructions readable.
    hint: 'hooks.secret (FERRY_HOOKS_SECRET) is set: give the notification endpoint in docker-registry\'s config.yml (notifications.endpoints[].headers) an Authorization header with the value "Bearer <hooks.secret>"',
  },
});

export const ACCESS_ERROR_TABLE = defineErrors('ACCESS', {
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    meaning: 'a mutating request whose body is not JSON (text/plain, a form, multipart)',
    hint: 'send the body as JSON, with content-type: application/json (an empty body is fine where nothing is needed)',
  },
});

export const ACCESS_ERROR_CODES = {
  UNAUTHORIZED: GUARD_ERROR_TABLE.codes.UNAUTHORIZED,
  NO_TOKEN_REMOTE: GUARD_ERROR_TABLE.codes.NO_TOKEN_REMOTE,
  HOOK_UNAUTHORIZED: HOOKS_ERROR_TABLE.codes.UNAUTHORIZED,
  UNSUPPORTED_MEDIA_TYPE: ACCESS_ERROR_TABLE.codes.UNSUPPORTED_MEDIA_TYPE,
} as const;

export function unauthorized(): FerryError {
  return GUARD_ERROR_TABLE.create('UNAUTHORIZED', 'this action needs Authorization: Bearer <dashboard.token>');
}

export function noTokenRemote(why: string): FerryError {
  return GUARD_ERROR_TABLE.create('NO_TOKEN_REMOTE', `no dashboard.token is configured, so changes are accepted from this machine's own pages and tools only: ${why}`);
}

/** How each other sender carries hooks.secret (docs/hooks.md), after the table's docker-registry hint. */
const OTHER_SENDERS =
  '; GitLab\'s registry: the same headers in its notifications config (or an X-Gitlab-Token header with the secret); ' +
  'Harbor: set the webhook\'s Auth Header to "Bearer <hooks.secret>" (or the bare secret); GitHub: set the webhook Secret to hooks.secret (checked as X-Hub-Signature-256); ' +
  'Docker Hub and Quay: append ?token=<hooks.secret> to the webhook URL. See docs/hooks.md';

/** `why`: what was wrong, when more is known than "no valid secret" (a signature that does not match). */
export function hookUnauthorized(why?: string): FerryError {
  return HOOKS_ERROR_TABLE.create(
    'UNAUTHORIZED',
    `POST /hooks/registry needs hooks.secret (as bearer token, the sender's signature, X-Gitlab-Token or ?token=)${why ? `: ${why}` : ''}`,
    { hint: HOOKS_ERROR_TABLE.specs.UNAUTHORIZED.hint + OTHER_SENDERS },
  );
}

export function unsupportedMediaType(contentType: string, accepted: readonly string[], takes: string): FerryError {
  return ACCESS_ERROR_TABLE.create('UNSUPPORTED_MEDIA_TYPE', `content-type "${contentType}" is not accepted here; send ${accepted.join(' or ')}`, {
    // Why so strict: text/plain, forms and multipart are what a web page can post cross-site without a CORS preflight.
    hint: `${takes}, with content-type: ${accepted[0]} (an empty body is fine where nothing is needed)`,
    details: { accepted },
  });
}

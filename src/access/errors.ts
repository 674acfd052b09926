/**
 * Error codes raised by `src/access` (the guard in front of every mutating
 * HTTP route), one table. The two `DASHBOARD` codes keep the names the
 * dashboard API has always answered with: they are named after the setting
 * that decides them (`dashboard.token`), which now guards the watch API too.
 */
import { FerryError } from '../errors.js';

export const ACCESS_ERROR_CODES = {
  /** `dashboard.token` is set and the request did not carry it. */
  UNAUTHORIZED: 'FERRY_ERR_DASHBOARD_UNAUTHORIZED',
  /** No `dashboard.token`: the caller is not on loopback, or a browser request came from another site. */
  NO_TOKEN_REMOTE: 'FERRY_ERR_DASHBOARD_NO_TOKEN_REMOTE',
  /** `hooks.secret` is set and `POST /hooks/registry` did not carry it. */
  HOOK_UNAUTHORIZED: 'FERRY_ERR_HOOKS_UNAUTHORIZED',
  /** A mutating request whose body is not JSON (text/plain, a form, ...). */
  UNSUPPORTED_MEDIA_TYPE: 'FERRY_ERR_ACCESS_UNSUPPORTED_MEDIA_TYPE',
} as const;

const C = ACCESS_ERROR_CODES;

export function unauthorized(): FerryError {
  return new FerryError(C.UNAUTHORIZED, 'this action needs Authorization: Bearer <dashboard.token>', {
    status: 401,
    hint: 'send an Authorization header "Bearer <token>", where <token> is the value of dashboard.token (FERRY_DASHBOARD_TOKEN)',
  });
}

export function noTokenRemote(why: string): FerryError {
  return new FerryError(C.NO_TOKEN_REMOTE, `no dashboard.token is configured, so changes are accepted from this machine's own pages and tools only: ${why}`, {
    status: 403,
    hint: 'open the dashboard as http://127.0.0.1:<port>/ or http://localhost:<port>/, or set dashboard.token (FERRY_DASHBOARD_TOKEN) and send Authorization: Bearer <token>',
  });
}

export function hookUnauthorized(): FerryError {
  return new FerryError(C.HOOK_UNAUTHORIZED, 'POST /hooks/registry needs hooks.secret as bearer token (an Authorization header "Bearer <hooks.secret>")', {
    status: 401,
    // Phrased so that log/secret masking (which blanks `Authorization: <value>`) leaves the instructions readable.
    hint: 'hooks.secret (FERRY_HOOKS_SECRET) is set: give the notification endpoint in docker-registry\'s config.yml (notifications.endpoints[].headers) an Authorization header with the value "Bearer <hooks.secret>"',
  });
}

export function unsupportedMediaType(contentType: string, accepted: readonly string[], takes: string): FerryError {
  return new FerryError(C.UNSUPPORTED_MEDIA_TYPE, `content-type "${contentType}" is not accepted here; send ${accepted.join(' or ')}`, {
    status: 415,
    // Why so strict: text/plain, forms and multipart are what a web page can post cross-site without a CORS preflight.
    hint: `${takes}, with content-type: ${accepted[0]} (an empty body is fine where nothing is needed)`,
    details: { accepted },
  });
}

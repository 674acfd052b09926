import { ACCESS_ERROR_CODES } from '../access/index.js';
import { defineErrors, FerryError } from '../errors.js';

/**
 * Every error code the dashboard API answers with (reference and registry
 * errors keep their own codes). The guard's codes are defined once, in
 * src/access, and listed here for the API's users. Most raisers in api.ts give
 * a hint naming the image at hand; the table's hint is the general advice
 * docs/errors.md shows.
 */
export const DASHBOARD_ERROR_TABLE = defineErrors('DASHBOARD', {
  BAD_REQUEST: {
    status: 400,
    meaning: 'a query parameter, path or body the API cannot use (its message says which)',
    hint: 'follow the hint in the answer: it says what this route takes (docs/dashboard.md lists every route)',
  },
  REF_NOT_ENCODED: {
    status: 400,
    meaning: 'the image reference in the URL path is not URL-encoded as one path segment',
    hint: 'encode the reference as one path segment, e.g. encodeURIComponent("docker.io/library/nginx:1.27") = docker.io%2Flibrary%2Fnginx%3A1.27',
  },
  NOT_FOUND: {
    status: 404,
    meaning: 'no image record for this reference',
    hint: 'add it with POST /api/images {"ref": "..."}; refs in URLs are normalized, so "nginx" means docker.io/library/nginx:latest',
  },
  NODE_NOT_FOUND: {
    status: 404,
    meaning: 'GET /api/nodes/:name: no node agent has published state under this node name',
    hint: 'GET /api/nodes lists the nodes whose agent reported; a node appears once `ferry agent` runs on it (deploy/components/agent) and reaches Redis',
  },
  IN_MIRROR: { status: 400, meaning: 'the reference already points into the mirror registry; mirror references are left alone', hint: 'add the upstream reference the image came from' },
  BLOCKED: {
    status: 409,
    meaning: 'the image is blocked from the dashboard, so it cannot be added or retried',
    hint: 'unblock it first: POST /api/images/<ref>/unblock',
  },
  BLOCKED_BY_CONFIG: {
    status: 409,
    meaning: 'a `block:` rule in the config matches the image, so it cannot be added or unblocked',
    hint: 'remove or narrow the matching `block:` rule in the config file',
  },
  NOT_BLOCKED: { status: 409, meaning: 'unblock was asked for an image that is not blocked', hint: 'only a blocked image can be unblocked; to copy it again: POST /api/images/<ref>/retry' },
  BUSY: { status: 409, meaning: 'retry was asked for an image that is being copied right now', hint: 'wait for this attempt to finish, then retry if it fails' },
  UNAVAILABLE: {
    status: 503,
    meaning: 'Redis is not reachable, so the API cannot read or change records right now',
    hint: 'check queue.redisUrl and that Redis is up; the dashboard reconnects by itself (GET /readyz shows the state)',
  },
  INTERNAL: {
    status: 500,
    meaning: 'the API failed on something other than a ferry error (its message is in the answer and the log)',
    hint: 'look for "dashboard API error" in the log; report it if it persists',
  },
});

const T = DASHBOARD_ERROR_TABLE;

export const DASHBOARD_ERROR_CODES = {
  UNAUTHORIZED: ACCESS_ERROR_CODES.UNAUTHORIZED,
  NO_TOKEN_REMOTE: ACCESS_ERROR_CODES.NO_TOKEN_REMOTE,
  UNSUPPORTED_MEDIA_TYPE: ACCESS_ERROR_CODES.UNSUPPORTED_MEDIA_TYPE,
  ...T.codes,
} as const;

export function badRequest(message: string, hint?: string, details?: Record<string, unknown>): FerryError {
  // Not T.create: a bad request without a hint of its own carries none (the table's is the docs' general advice).
  return new FerryError(T.codes.BAD_REQUEST, message, { status: 400, ...(hint ? { hint } : {}), ...(details ? { details } : {}) });
}

export function notFound(ref: string): FerryError {
  return T.create('NOT_FOUND', `no image record for ${ref}`, { details: { ref } });
}

export function refNotEncoded(path: string): FerryError {
  return T.create('REF_NOT_ENCODED', `the image reference in ${path} is not URL-encoded`);
}

export function unavailable(what: string): FerryError {
  return T.create('UNAVAILABLE', `${what}: Redis is not reachable right now`);
}

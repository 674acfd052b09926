import { ACCESS_ERROR_CODES } from '../access/index.js';
import { FerryError } from '../errors.js';

/**
 * Every error code the dashboard API answers with (reference and registry
 * errors keep their own codes). The guard's codes are defined once, in
 * src/access, and listed here for the API's users.
 */
export const DASHBOARD_ERROR_CODES = {
  UNAUTHORIZED: ACCESS_ERROR_CODES.UNAUTHORIZED,
  NO_TOKEN_REMOTE: ACCESS_ERROR_CODES.NO_TOKEN_REMOTE,
  UNSUPPORTED_MEDIA_TYPE: ACCESS_ERROR_CODES.UNSUPPORTED_MEDIA_TYPE,
  BAD_REQUEST: 'FERRY_ERR_DASHBOARD_BAD_REQUEST',
  REF_NOT_ENCODED: 'FERRY_ERR_DASHBOARD_REF_NOT_ENCODED',
  NOT_FOUND: 'FERRY_ERR_DASHBOARD_NOT_FOUND',
  IN_MIRROR: 'FERRY_ERR_DASHBOARD_IN_MIRROR',
  BLOCKED: 'FERRY_ERR_DASHBOARD_BLOCKED',
  BLOCKED_BY_CONFIG: 'FERRY_ERR_DASHBOARD_BLOCKED_BY_CONFIG',
  NOT_BLOCKED: 'FERRY_ERR_DASHBOARD_NOT_BLOCKED',
  BUSY: 'FERRY_ERR_DASHBOARD_BUSY',
  UNAVAILABLE: 'FERRY_ERR_DASHBOARD_UNAVAILABLE',
  INTERNAL: 'FERRY_ERR_DASHBOARD_INTERNAL',
} as const;

const C = DASHBOARD_ERROR_CODES;

export function badRequest(message: string, hint?: string, details?: Record<string, unknown>): FerryError {
  return new FerryError(C.BAD_REQUEST, message, { status: 400, ...(hint ? { hint } : {}), ...(details ? { details } : {}) });
}

export function notFound(ref: string): FerryError {
  return new FerryError(C.NOT_FOUND, `no image record for ${ref}`, {
    status: 404,
    hint: 'add it with POST /api/images {"ref": "..."}; refs in URLs are normalized, so "nginx" means docker.io/library/nginx:latest',
    details: { ref },
  });
}

export function refNotEncoded(path: string): FerryError {
  return new FerryError(C.REF_NOT_ENCODED, `the image reference in ${path} is not URL-encoded`, {
    status: 400,
    hint: 'encode the reference as one path segment, e.g. encodeURIComponent("docker.io/library/nginx:1.27") = docker.io%2Flibrary%2Fnginx%3A1.27',
  });
}

export function unavailable(what: string): FerryError {
  return new FerryError(C.UNAVAILABLE, `${what}: Redis is not reachable right now`, {
    status: 503,
    hint: 'check queue.redisUrl and that Redis is up; the dashboard reconnects by itself (GET /readyz shows the state)',
  });
}

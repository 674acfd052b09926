/**
 * `hooks.secret` on POST /hooks/registry, in each way a sender can carry it
 * (docs/hooks.md). Pure decisions, tested for any caller:
 * - `Authorization: Bearer <secret>`: docker-registry / GitLab registry `headers:`, Harbor "Auth Header" `Bearer ...`
 * - `Authorization: <secret>`: Harbor sends its configured Auth Header value verbatim
 * - `X-Gitlab-Token: <secret>`: GitLab's own token header
 * - `X-Hub-Signature-256: sha256=<HMAC-SHA256(secret, raw body)>`: GitHub; needs the raw body, so it is decided after it is read
 * - `?token=<secret>`: Docker Hub and Quay, which can set neither a header nor a signature
 *   (the URL lands in proxy access logs; ferry masks `token=` in its own)
 */
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FerryError } from '../errors.js';
import { bearerToken, sameSecret } from './bearer.js';
import { hookUnauthorized } from './errors.js';

export const SIGNATURE_HEADER = 'x-hub-signature-256';
export const GITLAB_TOKEN_HEADER = 'x-gitlab-token';
export const QUERY_TOKEN = 'token';

export type HookCredential = 'bearer' | 'authorization' | 'gitlab-token' | 'query-token' | 'signature';

export interface HookCredentials {
  headers: IncomingHttpHeaders;
  /** The `token` query parameter, if any. */
  queryToken?: string | undefined;
}

/** Before the body is read: accepted (by which credential), `signature` (decide once the raw body is read), or the refusal. */
export type HookCredentialCheck = { by: HookCredential } | { pending: 'signature' } | { refusal: FerryError };

const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim();

/** The `token` query parameter of a request URL ('' when absent). */
export function queryTokenOf(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return '';
  return new URLSearchParams(url.slice(q + 1)).get(QUERY_TOKEN) ?? '';
}

export function checkHookCredentials(c: HookCredentials, secret: string): HookCredentialCheck {
  const auth = one(c.headers.authorization);
  if (auth) {
    const bearer = bearerToken(auth);
    if (bearer && sameSecret(bearer, secret)) return { by: 'bearer' };
    if (sameSecret(auth, secret)) return { by: 'authorization' };
  }
  const gitlab = one(c.headers[GITLAB_TOKEN_HEADER]);
  if (gitlab && sameSecret(gitlab, secret)) return { by: 'gitlab-token' };
  if (c.queryToken && sameSecret(c.queryToken, secret)) return { by: 'query-token' };
  // A wrong header credential next to a signature: the signature decides (GitHub sends no Authorization of its own).
  if (one(c.headers[SIGNATURE_HEADER])) return { pending: 'signature' };
  return { refusal: hookUnauthorized() };
}

/** `sha256=<hex>` over the raw body bytes, keyed with the secret; compared in constant time. */
export function validSignature(rawBody: Buffer | undefined, header: string | string[] | undefined, secret: string): boolean {
  const given = one(header);
  if (!secret || !given.toLowerCase().startsWith('sha256=')) return false;
  const expected = `sha256=${createHmac('sha256', secret).update(rawBody ?? Buffer.alloc(0)).digest('hex')}`;
  return sameSecret(given.toLowerCase(), expected);
}

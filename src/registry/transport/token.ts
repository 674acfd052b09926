/**
 * One Bearer token request (docker's GET flow, or the OAuth2 refresh-token
 * POST for identity tokens) against the realm a registry's challenge names.
 *
 * The realm is the registry's choice, so it is judged (outbound.ts) before
 * anything is sent: scheme, metadata/link-local, loopback from a remote
 * registry, and credentials never downgraded from an https registry to an
 * http realm. Token requests follow NO redirects: a 3xx is an error naming
 * the realm's origin (a redirect would carry the credentials or the refresh
 * token somewhere the challenge did not name).
 *
 * Callers share one request per key (bearer.ts); it runs under `signal`,
 * the transport's own, never a caller's.
 */
import { tokenRequest, type Challenge } from '../auth.js';
import type { Credentials } from '../credentials.js';
import { classifyHttp, classifyThrown, registryError, type HttpFailure } from '../errors.js';
import { limiterFor } from '../limiter.js';
import type { Logger } from '../logger.js';
import { realmProblem } from '../outbound.js';
import { Deadline } from './deadline.js';
import { REDIRECT_STATUSES, targetOf, type HttpClient, type HttpResponse } from './http.js';

export interface Token {
  value: string;
  expiresAt: number;
}

export interface TokenContext {
  http: HttpClient;
  logger: Logger;
  userAgent: string;
  timeoutMs: number;
  /** Requests per second for the realm's host (0 = unlimited). */
  rps(host: string): number;
  /** The registry's endpoint: the realm is judged against it. */
  endpoint: string;
  /** The shared request's own signal (transport close), not a caller's. */
  signal: AbortSignal;
}

/** Token responses are small JSON documents; more is not a token server. */
const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;

export async function fetchToken(tc: TokenContext, host: string, ch: Challenge, scopes: string[], creds: Credentials | undefined): Promise<Token> {
  const realm = ch.params.realm;
  const ctx = { host, op: 'token request' };
  if (!realm) throw registryError('PROTOCOL', 'Bearer challenge without realm', ctx);
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw registryError('PROTOCOL', 'Bearer challenge with an invalid realm URL', ctx);
  }
  const origin = targetOf(url);
  const problem = realmProblem(url, new URL(tc.endpoint), !!creds);
  if (problem) {
    throw registryError('UNSAFE_TARGET', `token realm ${origin} refused: ${problem}`, { ...ctx, details: { realm: origin } });
  }
  const { method, headers, body: form } = tokenRequest(url, ch, scopes, creds);
  const oauth = method === 'POST';
  headers['User-Agent'] = tc.userAgent;
  await limiterFor(url.host, tc.rps(url.host)).take(tc.signal);
  const dl = new Deadline(tc.timeoutMs, tc.signal);
  let res: HttpResponse;
  let body: any;
  try {
    res = await tc.http.send({ url: url.toString(), method, headers, body: form, signal: dl.signal, origin: tc.endpoint, followRedirects: false });
    const text = await res.text(MAX_TOKEN_RESPONSE_BYTES);
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  } catch (e) {
    throw classifyThrown(e, ctx, dl.parentAborted);
  } finally {
    dl.clear();
  }
  if (REDIRECT_STATUSES.has(res.status)) {
    throw registryError('UNSAFE_TARGET', `token server at ${origin} answered ${res.status} (a redirect); token requests follow no redirects`, {
      ...ctx,
      details: { realm: origin, status: res.status },
    });
  }
  if (res.status < 200 || res.status >= 300) {
    const f: HttpFailure = { status: res.status, codes: [], method, what: 'token', retryAfter: res.headers.get('retry-after'), authenticated: !!creds };
    // 404: no such account; 400 from a refresh-token grant: invalid_grant (RFC 6749 5.2)
    if (res.status === 404 || (oauth && res.status === 400)) f.status = 401;
    throw classifyHttp(f, { ...ctx, details: { realm: url.origin + url.pathname } });
  }
  const value: unknown = oauth ? (body?.access_token ?? body?.token) : (body?.token ?? body?.access_token);
  if (typeof value !== 'string' || !value) throw registryError('PROTOCOL', 'token server answered without a token', ctx);
  const expiresIn = Number(body?.expires_in) > 0 ? Number(body.expires_in) : 60;
  const issued = body?.issued_at ? Date.parse(body.issued_at) : NaN;
  const start = Number.isFinite(issued) && Math.abs(issued - Date.now()) < 5 * 60_000 ? issued : Date.now();
  // refresh 10 s (or 10%) early so a token does not expire between POST and PUT
  const margin = Math.min(10_000, expiresIn * 100);
  tc.logger.debug({ host, scopes, expiresIn }, 'registry token obtained');
  return { value, expiresAt: start + expiresIn * 1000 - margin };
}

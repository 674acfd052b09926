/**
 * Registry authentication pieces: how a `WWW-Authenticate` challenge is read,
 * scope strings for Bearer tokens, the Basic header. Where credentials come
 * from lives in credentials.ts (re-exported here).
 * Nothing here logs or returns a secret inside an error message.
 */
import type { Credentials } from './credentials.js';

export { registryConfigFor, type Credentials } from './credentials.js';

export interface Challenge {
  scheme: string; // lower-case: 'basic' | 'bearer' | ...
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate value (possibly several challenges joined by
 * commas, as fetch's Headers.get joins repeated headers). Quoted strings may
 * contain commas and escaped quotes.
 */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipWs = () => {
    while (i < n && /[\s,]/.test(header[i]!)) i++;
  };
  const readToken = () => {
    const s = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z/]/.test(header[i]!)) i++;
    return header.slice(s, i);
  };
  let cur: Challenge | undefined;
  while (i < n) {
    skipWs();
    if (i >= n) break;
    const tok = readToken();
    if (!tok) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && header[j] === ' ') j++;
    if (header[j] === '=' && cur) {
      // auth-param of the current challenge
      i = j + 1;
      while (i < n && header[i] === ' ') i++;
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const s = i;
        while (i < n && header[i] !== ',') i++;
        value = header.slice(s, i).trim();
      }
      cur.params[tok.toLowerCase()] = value;
    } else {
      // new challenge: scheme [token68 | params]
      cur = { scheme: tok.toLowerCase(), params: {} };
      out.push(cur);
      i = j;
    }
  }
  return out;
}

export const pullScope = (repo: string): string => `repository:${repo}:pull`;
export const pushScope = (repo: string): string => `repository:${repo}:pull,push`;
export const deleteScope = (repo: string): string => `repository:${repo}:delete`;

/** Merges scope strings, unioning actions per resource. */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const map = new Map<string, Set<string>>();
  for (const s of scopes) {
    for (const one of s.split(' ')) {
      if (!one) continue;
      const idx = one.lastIndexOf(':');
      if (idx <= 0) continue;
      const res = one.slice(0, idx);
      const actions = one.slice(idx + 1).split(',').filter(Boolean);
      const set = map.get(res) ?? new Set<string>();
      for (const a of actions) set.add(a);
      map.set(res, set);
    }
  }
  return [...map.entries()].map(([r, a]) => `${r}:${[...a].sort().join(',')}`).sort();
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/**
 * The request for a Bearer token: docker's `GET realm?service&scope&account`
 * with Basic credentials, or, with an identity token, the OAuth2
 * refresh-token grant (`POST` form, client_id `ferry`). Sets `url`'s query.
 */
export function tokenRequest(
  url: URL,
  ch: Challenge,
  scopes: string[],
  creds: Credentials | undefined,
): { method: 'GET' | 'POST'; headers: Record<string, string>; body?: Buffer } {
  const service = ch.params.service;
  if (creds?.identityToken) {
    const form = new URLSearchParams({ grant_type: 'refresh_token' });
    if (service) form.set('service', service);
    if (scopes.length) form.set('scope', scopes.join(' '));
    form.set('client_id', 'ferry');
    form.set('refresh_token', creds.identityToken);
    return { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()) };
  }
  if (service) url.searchParams.set('service', service);
  for (const s of scopes) url.searchParams.append('scope', s);
  if (!creds) return { method: 'GET', headers: {} };
  url.searchParams.set('account', creds.username);
  return { method: 'GET', headers: { Authorization: basicHeader(creds) } };
}

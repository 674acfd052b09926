/**
 * Registry authentication pieces: where credentials come from, how a
 * `WWW-Authenticate` challenge is read, and scope strings for Bearer tokens.
 * Nothing here logs or returns a secret inside an error message.
 */
import { readFileSync } from 'node:fs';
import type { FerryConfig, RegistryConfig } from '../config/types.js';
import { registryError } from './errors.js';

export interface Credentials {
  username: string;
  password: string;
}

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

function aliasesOf(host: string): string[] {
  if (host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io') {
    return ['docker.io', 'index.docker.io', 'registry-1.docker.io'];
  }
  return [host];
}

/** Host part of a docker config.json `auths` key (`https://index.docker.io/v1/` -> `index.docker.io`). */
function authsKeyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

export function registryConfigFor(config: FerryConfig, host: string): RegistryConfig | undefined {
  for (const h of aliasesOf(host)) {
    const rc = config.registries[h];
    if (rc) return rc;
  }
  return undefined;
}

/**
 * Credentials for `host`: `registries[host].username/password`, else the
 * `auths` entry of `registries[host].credentialsFile` (a docker config.json:
 * `auth` = base64("user:pass") or `username`/`password`). Undefined = anonymous.
 */
export function loadCredentials(config: FerryConfig, host: string): Credentials | undefined {
  const rc = registryConfigFor(config, host);
  if (!rc) return undefined;
  if (rc.username) return { username: rc.username, password: rc.password ?? '' };
  if (!rc.credentialsFile) return undefined;
  let doc: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    doc = JSON.parse(readFileSync(rc.credentialsFile, 'utf8'));
  } catch (e) {
    throw registryError('CREDENTIALS', `cannot read credentials file ${rc.credentialsFile}: ${(e as Error).message.split('\n')[0]}`, {
      host,
    });
  }
  const auths = doc?.auths ?? {};
  const wanted = new Set(aliasesOf(host));
  for (const [key, entry] of Object.entries(auths)) {
    if (!wanted.has(authsKeyHost(key)) || !entry) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const c = decoded.indexOf(':');
      if (c < 0) throw registryError('CREDENTIALS', `auths entry for ${key} in ${rc.credentialsFile} is not base64("user:password")`, { host });
      return { username: decoded.slice(0, c), password: decoded.slice(c + 1) };
    }
    if (entry.username) return { username: entry.username, password: entry.password ?? '' };
  }
  return undefined;
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

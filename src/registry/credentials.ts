/**
 * Where a registry host's credentials come from, first match wins:
 *
 *  1. `registries.<host>.username` / `password`;
 *  2. `registries.<host>.credentialsFile`, a docker config.json:
 *     `credHelpers[host]` (a helper, see credential-helper.ts), else the
 *     `auths` entry (`identitytoken`, `auth` = base64("user:pass"),
 *     `username`/`password`), else `credsStore` (a helper for every host);
 *  3. nothing: anonymous.
 *
 * `registries["*"]` supplies every field the host's own entry (Docker Hub's
 * aliases included) leaves unset, so one mounted dockerconfigjson serves
 * every registry it names. CredentialStore caches the answers per host:
 * helpers' for 5 minutes, the rest until the config changes.
 */
import { readFile } from 'node:fs/promises';
import type { FerryConfig, RegistryConfig } from '../config/types.js';
import { IDENTITY_TOKEN_USERNAME, isDockerHub, runCredentialHelper } from './credential-helper.js';
import { registryError } from './errors.js';

export interface Credentials {
  username: string;
  password: string;
  /** OAuth2 refresh token (`identitytoken`, or a helper's `<token>` answer): Bearer tokens come from the refresh-token grant. */
  identityToken?: string;
  /** Where they came from, for messages (never the secret): "registries.<host>", a file, a helper. */
  from?: string;
}

/** The key of the default entry in `registries`. */
export const ANY_REGISTRY = '*';
/** How long a credential helper's answer is reused. */
export const HELPER_TTL_MS = 5 * 60_000;

const aliasesOf = (host: string): string[] => (isDockerHub(host) ? ['docker.io', 'index.docker.io', 'registry-1.docker.io'] : [host]);

/** Host part of a docker config.json key (`https://index.docker.io/v1/` -> `index.docker.io`). */
const keyHost = (key: string): string => key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');

/** `host`'s own entry (under any of its Docker Hub aliases), without the `*` default. */
export function ownRegistryConfig(config: FerryConfig, host: string): RegistryConfig | undefined {
  for (const h of aliasesOf(host)) {
    const rc = config.registries[h];
    if (rc) return rc;
  }
  return undefined;
}

/** Effective settings for `host`: its own entry, each unset field taken from `registries["*"]`. */
export function registryConfigFor(config: FerryConfig, host: string): RegistryConfig | undefined {
  const own = ownRegistryConfig(config, host);
  const any = config.registries[ANY_REGISTRY];
  if (!any || !own) return own ?? any;
  return { ...any, ...own };
}

/**
 * `config` with `host`'s entry (under each of its Docker Hub aliases) holding
 * exactly `creds`, or no credentials at all when `creds` is undefined: an
 * engine built from it authenticates to `host` with those and nothing else,
 * while endpoint, TLS, limits and every other host (the mirror's credentials
 * included) stay as configured. The entry is complete, so `registries["*"]`
 * adds nothing to it: its `credentialsFile` is overridden by ''.
 */
export function withOnlyCredentials(config: FerryConfig, host: string, creds?: { username: string; password: string }): FerryConfig {
  const { username: _u, password: _p, credentialsFile: _f, ...rest } = registryConfigFor(config, host) ?? {};
  const entry: RegistryConfig = { ...rest, credentialsFile: '', ...(creds ? { username: creds.username, password: creds.password } : {}) };
  const registries = { ...config.registries };
  for (const h of aliasesOf(host)) registries[h] = entry;
  return { ...config, registries };
}

interface AuthsEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
}
interface DockerConfig {
  auths?: Record<string, AuthsEntry | null>;
  credHelpers?: Record<string, unknown>;
  credsStore?: unknown;
}

/** What a docker config.json says about one host. */
type Source = { creds: Credentials } | { helper: string } | undefined;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function entryFor<T>(map: Record<string, T | null> | undefined, host: string): [string, T] | undefined {
  const wanted = new Set(aliasesOf(host));
  for (const [key, v] of Object.entries(map ?? {})) if (wanted.has(keyHost(key)) && v) return [key, v];
  return undefined;
}

function fromDockerConfig(text: string, file: string, host: string): Source {
  let doc: DockerConfig;
  try {
    doc = JSON.parse(text) ?? {};
  } catch (e) {
    // not V8's message: it quotes the text around the error, i.e. a piece of an `auth` or `identitytoken`
    throw registryError('CREDENTIALS', `credentials file ${file} is not JSON${/ at position \d+/.exec((e as Error).message)?.[0] ?? ''} (contents not shown: they hold credentials)`, { host });
  }
  const helper = entryFor(doc.credHelpers, host);
  if (helper) return { helper: String(helper[1]) };
  const found = entryFor(doc.auths, host);
  if (found) {
    const [key, entry] = found;
    const from = `auths["${key}"] in ${file}`;
    const identityToken = str(entry.identitytoken);
    if (identityToken) return { creds: { username: str(entry.username) ?? IDENTITY_TOKEN_USERNAME, password: '', identityToken, from } };
    const auth = str(entry.auth);
    if (auth) {
      const decoded = Buffer.from(auth, 'base64').toString('utf8');
      const c = decoded.indexOf(':');
      if (c < 0) throw registryError('CREDENTIALS', `auths entry for ${key} in ${file} is not base64("user:password")`, { host });
      return { creds: { username: decoded.slice(0, c), password: decoded.slice(c + 1), from } };
    }
    const username = str(entry.username);
    if (username) return { creds: { username, password: str(entry.password) ?? '', from } };
  }
  const store = str(doc.credsStore);
  return store ? { helper: store } : undefined;
}

function unreadable(file: string, host: string, e: unknown) {
  return registryError('CREDENTIALS', `cannot read credentials file ${file}: ${(e as Error).message.split('\n')[0]}`, { host });
}

interface Lookup {
  creds: Credentials | undefined;
  /** Reuse until (epoch ms); Infinity = until the config changes. */
  until: number;
}

export interface CredentialStoreOptions {
  /** Clock (tests). */
  now?: () => number;
  helperTtlMs?: number;
  helperTimeoutMs?: number;
  logger?: { debug(o: object, msg?: string): void };
}

/** Per-host credentials for one config: one lookup in flight per host, answers cached. */
export class CredentialStore {
  private readonly cache = new Map<string, Lookup>();
  private readonly flights = new Map<string, Promise<Lookup>>();
  private readonly now: () => number;

  constructor(
    private readonly config: FerryConfig,
    private readonly opts: CredentialStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  async get(host: string): Promise<Credentials | undefined> {
    const hit = this.cache.get(host);
    if (hit && hit.until > this.now()) return hit.creds;
    let flight = this.flights.get(host);
    if (!flight) {
      flight = this.lookup(host).finally(() => this.flights.delete(host));
      this.flights.set(host, flight);
      flight.then((l) => this.cache.set(host, l), () => undefined);
    }
    return (await flight).creds;
  }

  /** The registry refused them: look again next time (a file may have been rotated, a helper's token expired). */
  forget(host: string): void {
    this.cache.delete(host);
  }

  private async lookup(host: string): Promise<Lookup> {
    const rc = registryConfigFor(this.config, host);
    const forever = (creds?: Credentials): Lookup => ({ creds, until: Infinity });
    if (rc?.username) return forever({ username: rc.username, password: rc.password ?? '', from: `registries.${host}` });
    const file = rc?.credentialsFile;
    if (!file) return forever();
    const src = fromDockerConfig(await readFile(file, 'utf8').catch((e) => Promise.reject(unreadable(file, host, e))), file, host);
    if (!src || 'creds' in src) return forever(src?.creds);
    const answer = await runCredentialHelper(src.helper, host, this.opts.helperTimeoutMs);
    this.opts.logger?.debug({ host, helper: `docker-credential-${src.helper}`, found: !!answer }, 'registry credential helper ran');
    const until = this.now() + (this.opts.helperTtlMs ?? HELPER_TTL_MS);
    if (!answer) return { creds: undefined, until };
    const from = `credential helper docker-credential-${src.helper}`;
    const creds: Credentials =
      answer.username === IDENTITY_TOKEN_USERNAME
        ? { username: answer.username, password: '', identityToken: answer.secret, from }
        : { username: answer.username, password: answer.secret, from };
    return { creds, until };
  }
}

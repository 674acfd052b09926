/**
 * A pod's registry credentials, from its `imagePullSecrets`, for
 * `registries.<host>.credentialsFromPods` (SPEC "Cluster awareness").
 *
 * Reads only the Secrets a request names (`secrets get`: no list, no watch),
 * as the kubelet reads them: `kubernetes.io/dockerconfigjson`
 * (`.dockerconfigjson`, `{"auths": {...}}`) and the legacy
 * `kubernetes.io/dockercfg` (`.dockercfg`, the `auths` map itself). An
 * entry's `auth` (base64 `user:password`) or `username`/`password` count;
 * credential helpers and `credsStore` never do (the kubelet ignores them,
 * and running a helper a pod author named would be running their program).
 *
 * Parsed Secrets are cached for a short TTL per namespace and name. Nothing
 * here logs, and what it returns about a Secret that gave nothing
 * (`problems`) names the Secret, never its content.
 */
import type { KubeClient } from './client.js';
import { statusCodeOf } from './api-calls.js';

export interface PullCredentials {
  username: string;
  password: string;
  /** `<namespace>/<secret>` they came from: for logs and messages. */
  source: string;
}

export interface PullSecretLookup {
  /** The first named Secret with an entry for the host, in the pod's order (the kubelet's order too). */
  credentials?: PullCredentials;
  /** Why named Secrets gave nothing for the host (names and reasons, no content). */
  problems: string[];
}

export interface PullSecretsOptions {
  /** The API client; called only when a Secret has to be read (so only where `credentialsFromPods` is on). */
  kube: () => Promise<KubeClient | undefined>;
  /** How long a read Secret is reused. Default 30 s. */
  ttlMs?: number;
  /** Secrets held at most (least recently used dropped first). Default 1000. */
  maxEntries?: number;
  now?: () => number;
}

/** What one Secret says: registry key host -> credentials, or why it says nothing. */
type Parsed = { auths: Map<string, { username: string; password: string }> } | { problem: string };

const DOCKER_HUB = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];

/** The host of a docker config key: `https://index.docker.io/v1/` -> `index.docker.io`. */
const keyHost = (key: string): string =>
  key
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();

/** Does the config key (`ghcr.io`, `*.example.com`, `https://index.docker.io/v1/`) cover `host`? */
function keyMatches(key: string, host: string): boolean {
  const h = host.toLowerCase();
  if (key === h) return true;
  if (DOCKER_HUB.includes(h) && DOCKER_HUB.includes(key)) return true;
  // `*.example.com` covers one label, as the kubelet's glob does; the port must match too
  if (key.startsWith('*.')) {
    const dot = h.indexOf('.');
    return dot > 0 && h.slice(dot) === key.slice(1);
  }
  return false;
}

function entryCredentials(entry: unknown): { username: string; password: string } | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const e = entry as { auth?: unknown; username?: unknown; password?: unknown };
  if (typeof e.auth === 'string' && e.auth !== '') {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const c = decoded.indexOf(':');
    return c > 0 ? { username: decoded.slice(0, c), password: decoded.slice(c + 1) } : undefined;
  }
  if (typeof e.username === 'string' && e.username !== '') return { username: e.username, password: typeof e.password === 'string' ? e.password : '' };
  return undefined;
}

/** A V1Secret -> what it says for registries. Never quotes the content (not even JSON parse errors, which would). */
export function parsePullSecret(secret: { type?: string; data?: Record<string, string> }): Parsed {
  const key = secret.type === 'kubernetes.io/dockerconfigjson' ? '.dockerconfigjson' : secret.type === 'kubernetes.io/dockercfg' ? '.dockercfg' : undefined;
  if (!key) return { problem: `not a pull secret (type ${secret.type ?? 'none'})` };
  const raw = secret.data?.[key];
  if (!raw) return { problem: `no ${key} key` };
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  } catch {
    return { problem: `${key} is not JSON` };
  }
  const map = key === '.dockerconfigjson' ? (doc as { auths?: unknown } | null)?.auths : doc;
  const auths = new Map<string, { username: string; password: string }>();
  if (typeof map === 'object' && map !== null) {
    for (const [k, entry] of Object.entries(map)) {
      const creds = entryCredentials(entry);
      if (creds && !auths.has(keyHost(k))) auths.set(keyHost(k), creds);
    }
  }
  return { auths };
}


export class PullSecrets {
  private readonly cache = new Map<string, { parsed: Parsed; until: number }>();
  private readonly flights = new Map<string, Promise<Parsed>>();
  private readonly now: () => number;

  constructor(private readonly o: PullSecretsOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Credentials for `host` in the Secrets `names` of `namespace`, first match wins. */
  async lookup(namespace: string, names: readonly string[], host: string): Promise<PullSecretLookup> {
    const problems: string[] = [];
    for (const name of names) {
      const parsed = await this.secret(namespace, name);
      if ('problem' in parsed) {
        problems.push(`${namespace}/${name}: ${parsed.problem}`);
        continue;
      }
      for (const [key, creds] of parsed.auths) {
        if (keyMatches(key, host)) return { credentials: { ...creds, source: `${namespace}/${name}` }, problems };
      }
      problems.push(`${namespace}/${name}: no entry for ${host}`);
    }
    if (names.length === 0) problems.push(`namespace ${namespace}: the pod names no imagePullSecrets`);
    return { problems };
  }

  /** Drops what is cached (tests, or a Secret known to have changed). */
  clear(): void {
    this.cache.clear();
  }

  private async secret(namespace: string, name: string): Promise<Parsed> {
    const id = `${namespace}/${name}`;
    const hit = this.cache.get(id);
    if (hit && hit.until > this.now()) {
      // refresh its place: the map's order is the LRU order
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit.parsed;
    }
    let flight = this.flights.get(id);
    if (!flight) {
      flight = this.read(namespace, name).finally(() => this.flights.delete(id));
      this.flights.set(id, flight);
    }
    return flight;
  }

  private async read(namespace: string, name: string): Promise<Parsed> {
    const kube = await this.o.kube().catch(() => undefined);
    // not cached: a kubeconfig may appear with a restart, a flaky API server recover
    if (!kube) return { problem: 'no Kubernetes API configured for this process (KUBECONFIG or an in-cluster service account), so pull secrets cannot be read' };
    let parsed: Parsed;
    try {
      parsed = parsePullSecret(await kube.core.readNamespacedSecret({ name, namespace }));
    } catch (e) {
      const status = statusCodeOf(e);
      if (status === 404) parsed = { problem: 'not found' };
      else if (status === 403) parsed = { problem: 'forbidden: the worker needs `secrets get` (deploy/components/credentials-from-pods)' };
      else {
        const code = (e as { code?: unknown } | null)?.code;
        return { problem: `could not be read (${status !== undefined ? `HTTP ${status}` : typeof code === 'string' ? code : 'error'})` };
      }
    }
    this.cache.set(`${namespace}/${name}`, { parsed, until: this.now() + (this.o.ttlMs ?? 30_000) });
    const max = this.o.maxEntries ?? 1000;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value as string);
    return parsed;
  }
}

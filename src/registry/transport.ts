/**
 * HTTP transport to Docker Registry v2 APIs, as a stack of small wrappers in
 * the go-containerregistry style:
 *
 *   endpoint (scheme choice) -> ping `/v2/` (cached challenge) -> auth
 *   (Basic, or Bearer token with scopes, cached until expiry, refreshed on
 *   401/insufficient_scope) -> per-host token bucket -> per-request idle
 *   timeout + caller AbortSignal -> fetch (keep-alive) -> error table.
 *
 * Idempotent requests without a streamed body are retried on transient
 * failures (backoff, honouring Retry-After up to `maxRetryAfterMs`).
 * Credentials and tokens are never logged or put in errors.
 *
 * The ping and token requests are shared by every caller asking for the same
 * host (scopes) meanwhile. They run under the transport's own signal and
 * deadline, never the first caller's: a caller whose job is cancelled
 * abandons only its own wait (`abandonable`), the others still get the answer.
 */
import type { FerryConfig } from '../config/types.js';
import type { FerryError } from '../errors.js';
import { basicHeader, mergeScopes, parseChallenges, type Challenge } from './auth.js';
import { CredentialStore, ownRegistryConfig, registryConfigFor, type Credentials, type CredentialStoreOptions } from './credentials.js';
import { classifyHttp, classifyThrown, registryError, type HttpFailure } from './errors.js';
import { HttpClient, type Body, type HttpResponse } from './http.js';
import { limiterFor } from './limiter.js';
import { abandonable, Deadline, RegistryResponse, safePath, sleep, touching } from './response.js';
import { fetchToken, type Token } from './token.js';

export { Deadline, RegistryResponse, sleep } from './response.js';

export interface Logger {
  debug(o: object, msg?: string): void;
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
}

export const noopLogger: Logger = { debug() {}, info() {}, warn() {} };

const LOOPBACK_RE = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_RE.test(host);
}

/**
 * Base URL for `host`: `registries[host].endpoint` wins; `insecure: true`
 * (or `mirror.insecure` for the mirror host) or a loopback host -> plain
 * http (docker's default insecure loopback); docker.io -> registry-1; else https.
 * The `registries["*"]` default takes part in neither (the config refuses
 * `endpoint` and `insecure` there).
 */
export function endpointFor(config: FerryConfig, host: string): string {
  const rc = ownRegistryConfig(config, host);
  if (rc?.endpoint) return rc.endpoint.replace(/\/+$/, '');
  const insecure = rc?.insecure ?? (host === config.mirror.registry ? config.mirror.insecure : false);
  if (insecure || isLoopbackHost(host)) return `http://${host}`;
  if (host === 'docker.io' || host === 'index.docker.io') return 'https://registry-1.docker.io';
  return `https://${host}`;
}

export type { Body };

export interface RequestSpec {
  host: string;
  repository?: string;
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** Path under the endpoint (`/v2/...`) or an absolute URL (upload Location). */
  path: string;
  headers?: Record<string, string>;
  body?: Body;
  /** Bearer scopes this request needs. */
  scopes: string[];
  what: HttpFailure['what'];
  /** Statuses returned to the caller instead of thrown (default: 2xx). */
  expect?: number[];
  signal?: AbortSignal | undefined;
  /** Retry transient failures (only honoured for replayable bodies). Default: GET/HEAD. */
  retry?: boolean;
  /** For error messages, e.g. "GET manifest v1". */
  op?: string;
}

export interface TransportOptions {
  /** Extra attempts for retryable requests (default 2). */
  retries?: number;
  /** Longest Retry-After honoured in-process; longer ones are thrown (retryAfterMs in details). */
  maxRetryAfterMs?: number;
  /** Base backoff between retries (doubling, jittered). */
  backoffMs?: number;
  userAgent?: string;
  /** Credential lookup knobs (clock, helper TTL and timeout). */
  credentials?: CredentialStoreOptions;
}

function isReplayable(b: Body | undefined): boolean {
  return b === undefined || Buffer.isBuffer(b);
}

export class Transport {
  private config: FerryConfig;
  private readonly pings = new Map<string, Promise<Challenge | null>>();
  private readonly tokens = new Map<string, Token>();
  private readonly tokenFlights = new Map<string, Promise<Token>>();
  private creds: CredentialStore;
  readonly retries: number;
  readonly maxRetryAfterMs: number;
  readonly backoffMs: number;
  private readonly userAgent: string;
  private readonly http = new HttpClient();
  private readonly credentialOptions: CredentialStoreOptions;
  /** Signal of the shared ping/token requests: aborted by close(), never by a caller. */
  private closing = new AbortController();

  constructor(
    config: FerryConfig,
    private readonly logger: Logger = noopLogger,
    opts: TransportOptions = {},
  ) {
    this.config = config;
    this.retries = opts.retries ?? 2;
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 10_000;
    this.backoffMs = opts.backoffMs ?? 250;
    this.userAgent = opts.userAgent ?? 'ferry/0.1';
    this.credentialOptions = { logger, ...opts.credentials };
    this.creds = new CredentialStore(config, this.credentialOptions);
  }

  updateConfig(config: FerryConfig): void {
    this.config = config;
    this.pings.clear();
    this.tokens.clear();
    this.creds = new CredentialStore(config, this.credentialOptions);
  }

  endpoint(host: string): string {
    return endpointFor(this.config, host);
  }

  /** Stops the shared ping/token requests and drops pooled connections (the transport stays usable). */
  close(): void {
    this.closing.abort(registryError('ABORTED', 'registry transport closed', { host: '-' }));
    this.closing = new AbortController();
    this.http.close();
  }

  get timeoutMs(): number {
    return this.config.copy.timeoutMs;
  }

  private rps(host: string): number {
    return registryConfigFor(this.config, host)?.requestsPerSecond ?? this.config.copy.requestsPerSecond;
  }

  /** `host`'s credentials (a helper may run: up to 10 s), abandoned when `signal` aborts. */
  private credentials(host: string, signal?: AbortSignal): Promise<Credentials | undefined> {
    return abandonable(this.creds.get(host), signal, { host, op: 'credentials' });
  }

  /** Sends one request with retries for transient failures of replayable requests. */
  async request(spec: RequestSpec): Promise<RegistryResponse> {
    const retry = (spec.retry ?? (spec.method === 'GET' || spec.method === 'HEAD')) && isReplayable(spec.body);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(spec);
      } catch (e) {
        const fe = e as FerryError;
        if (!retry || !fe.transient || attempt >= this.retries || spec.signal?.aborted || fe.code === 'FERRY_ERR_REGISTRY_ABORTED') throw fe;
        const ra = fe.details?.retryAfterMs as number | undefined;
        if (ra !== undefined && ra > this.maxRetryAfterMs) throw fe;
        const wait = ra ?? this.backoffMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
        this.logger.debug({ host: spec.host, op: spec.op, code: fe.code, attempt: attempt + 1, waitMs: Math.round(wait) }, 'registry request retry');
        await sleep(wait, spec.signal);
      }
    }
  }

  /** An absolute URL (any scheme: http.ts refuses what is not http/https) is used as is, a path goes under the endpoint. */
  private urlFor(host: string, path: string): string {
    return /^[a-z][a-z0-9+.-]*:/i.test(path) ? path : this.endpoint(host) + path;
  }

  /**
   * Ping `/v2/` once per host: null = no auth needed, else the challenge.
   * One request shared by every caller; `signal` abandons only this caller's wait.
   */
  ping(host: string, signal?: AbortSignal): Promise<Challenge | null> {
    const ctx = { host, op: 'ping /v2/' };
    if (signal?.aborted) return Promise.reject(classifyThrown(signal.reason, ctx, true));
    let p = this.pings.get(host);
    if (!p) {
      p = this.doPing(host, this.closing.signal);
      this.pings.set(host, p);
      p.catch(() => this.pings.delete(host));
    }
    return abandonable(p, signal, ctx);
  }

  /** The shared ping: `signal` is the transport's own (close), its Deadline the request's timeout. */
  private async doPing(host: string, signal: AbortSignal): Promise<Challenge | null> {
    const ctx = { host, op: 'ping /v2/' };
    await limiterFor(host, this.rps(host)).take(signal);
    const dl = new Deadline(this.timeoutMs, signal);
    let res: HttpResponse;
    try {
      res = await this.http.send({ url: this.urlFor(host, '/v2/'), method: 'GET', headers: { 'User-Agent': this.userAgent }, signal: dl.signal, origin: this.endpoint(host) });
      await res.text();
    } catch (e) {
      throw classifyThrown(e, ctx, dl.parentAborted);
    } finally {
      dl.clear();
    }
    if (res.status === 200) return null;
    if (res.status === 401) {
      const chs = parseChallenges(res.headers.get('www-authenticate'));
      return chs.find((c) => c.scheme === 'bearer') ?? chs.find((c) => c.scheme === 'basic') ?? { scheme: 'basic', params: {} };
    }
    throw classifyHttp({ status: res.status, codes: [], method: 'GET', what: 'ping', retryAfter: res.headers.get('retry-after'), authenticated: false }, ctx);
  }

  private async authorization(host: string, ch: Challenge | null, scopes: string[], signal?: AbortSignal, force = false): Promise<string | undefined> {
    if (!ch) return undefined;
    const creds = await this.credentials(host, signal);
    if (ch.scheme === 'basic') {
      if (creds?.identityToken) {
        throw registryError(
          'CREDENTIALS',
          `the registry asks for Basic auth, but the credentials from ${creds.from ?? 'the config'} are an identity token (OAuth refresh token), which only token (Bearer) auth accepts; give a username and password for this host instead`,
          { host },
        );
      }
      return creds ? basicHeader(creds) : undefined;
    }
    if (ch.scheme === 'bearer') {
      const t = await this.token(host, ch, scopes, creds, signal, force);
      return `Bearer ${t.value}`;
    }
    return undefined;
  }

  private async token(host: string, ch: Challenge, scopes: string[], creds: Credentials | undefined, signal: AbortSignal | undefined, force: boolean): Promise<Token> {
    const merged = mergeScopes(scopes);
    const key = `${host}|${ch.params.realm}|${ch.params.service ?? ''}|${merged.join(' ')}`;
    const cached = this.tokens.get(key);
    if (!force && cached && cached.expiresAt > Date.now()) return cached;
    let flight = this.tokenFlights.get(key);
    if (!flight) {
      const tc = {
        http: this.http,
        logger: this.logger,
        userAgent: this.userAgent,
        timeoutMs: this.timeoutMs,
        rps: (h: string) => this.rps(h),
        endpoint: this.endpoint(host),
        signal: this.closing.signal,
      };
      flight = fetchToken(tc, host, ch, merged, creds).finally(() => this.tokenFlights.delete(key));
      // cached even when every caller has abandoned the flight: the next one need not ask again
      flight.then((t) => this.tokens.set(key, t)).catch(() => undefined);
      this.tokenFlights.set(key, flight);
    }
    return abandonable(flight, signal, { host, op: 'token request' });
  }

  private async once(spec: RequestSpec): Promise<RegistryResponse> {
    const { host, signal } = spec;
    const ctx = { host, ...(spec.repository ? { repository: spec.repository } : {}), ...(spec.op ? { op: spec.op } : {}) };
    const url = this.urlFor(host, spec.path);
    let ch = await this.ping(host, signal);
    let scopes = spec.scopes;
    let auth = await this.authorization(host, ch, scopes, signal);
    const limiter = limiterFor(host, this.rps(host));
    for (let authTry = 0; ; authTry++) {
      await limiter.take(signal);
      const dl = new Deadline(this.timeoutMs, signal);
      const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...spec.headers };
      if (auth) headers.Authorization = auth;
      const body = spec.body === undefined || Buffer.isBuffer(spec.body) ? spec.body : touching(spec.body, dl);
      const t0 = performance.now();
      let res: HttpResponse;
      try {
        res = await this.http.send({ url, method: spec.method, headers, body, signal: dl.signal, origin: this.endpoint(host) });
      } catch (e) {
        dl.clear();
        throw classifyThrown(e, ctx, dl.parentAborted);
      }
      dl.touch();
      this.logger.debug(
        { host, method: spec.method, path: safePath(url), status: res.status, ms: Math.round(performance.now() - t0) },
        'registry request',
      );
      if (res.status === 401 && authTry === 0 && isReplayable(spec.body)) {
        await res.text().catch(() => undefined);
        dl.clear();
        const chs = parseChallenges(res.headers.get('www-authenticate'));
        const fresh = chs.find((c) => c.scheme === 'bearer') ?? chs.find((c) => c.scheme === 'basic');
        if (fresh) {
          ch = fresh;
          this.pings.set(host, Promise.resolve(fresh));
        }
        if (fresh?.params.scope) scopes = mergeScopes([...scopes, fresh.params.scope]);
        this.creds.forget(host); // a credentials file may have been rotated, a helper's token expired
        const next = await this.authorization(host, ch, scopes, signal, true);
        if (next !== undefined) {
          auth = next;
          continue;
        }
        throw classifyHttp({ status: 401, codes: ['UNAUTHORIZED'], method: spec.method, what: spec.what, authenticated: false }, ctx);
      }
      const expected = spec.expect ? spec.expect.includes(res.status) : res.status >= 200 && res.status < 300;
      if (expected) return new RegistryResponse(res, dl, ctx);
      // error: read a bounded body for registry error codes
      let codes: string[] = [];
      let message: string | undefined;
      try {
        const text = spec.method === 'HEAD' ? '' : await res.text(64 * 1024);
        const j = text ? JSON.parse(text) : undefined;
        if (Array.isArray(j?.errors)) {
          codes = j.errors.map((x: { code?: unknown }) => String(x.code ?? '')).filter(Boolean);
          const m = j.errors[0]?.message;
          if (typeof m === 'string') message = m.slice(0, 300);
        }
      } catch {
        /* not JSON */
      } finally {
        dl.clear();
      }
      throw classifyHttp(
        { status: res.status, codes, ...(message ? { message } : {}), method: spec.method, what: spec.what, retryAfter: res.headers.get('retry-after'), authenticated: !!auth },
        ctx,
      );
    }
  }
}

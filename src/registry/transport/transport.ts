/**
 * The Transport composes one registry request from small steps, in the
 * go-containerregistry order:
 *
 *   endpoint (endpoint.ts: scheme and base URL) -> ping `/v2/` (ping.ts:
 *   shared, cached challenge) -> authorization (authorizer.ts: Basic, or a
 *   Bearer token with scopes, cached, refreshed on 401/insufficient_scope)
 *   -> per-host token bucket (limiter.ts) -> idle timeout + caller signal
 *   (deadline.ts) -> the wire (http.ts, keep-alive) -> error body and table
 *   (error-body.ts, errors.ts).
 *
 * Idempotent requests without a streamed body are retried on transient
 * failures (retry.ts: backoff, honouring Retry-After up to `maxRetryAfterMs`).
 * Credentials and tokens are never logged or put in errors.
 */
import type { FerryConfig } from '../../config/types.js';
import { mergeScopes, type Challenge } from '../auth.js';
import { registryConfigFor, type CredentialStoreOptions } from '../credentials.js';
import { classifyHttp, classifyThrown, registryError, type HttpFailure } from '../errors.js';
import { limiterFor } from '../limiter.js';
import { noteRequest } from '../request-count.js';
import { noopLogger, type Logger } from '../logger.js';
import { Authorizer } from './authorizer.js';
import { Deadline, touching } from './deadline.js';
import { endpointFor, safePath, urlUnder } from './endpoint.js';
import { errorBodyOf } from './error-body.js';
import { HttpClient, type Body, type HttpResponse } from './http.js';
import { Pings, preferredChallenge, type PingContext } from './ping.js';
import { RegistryResponse } from './response.js';
import { withRetries, type RetryPolicy } from './retry.js';

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

export class Transport implements RetryPolicy {
  private config: FerryConfig;
  readonly retries: number;
  readonly maxRetryAfterMs: number;
  readonly backoffMs: number;
  private readonly userAgent: string;
  private readonly http = new HttpClient();
  private readonly pings: Pings;
  private readonly auth: Authorizer;
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
    const shared: PingContext & { logger: Logger } = {
      http: this.http,
      logger,
      userAgent: this.userAgent,
      timeoutMs: () => this.timeoutMs,
      rps: (host) => this.requestsPerSecondFor(host),
      endpoint: (host) => this.endpoint(host),
      closing: () => this.closing.signal,
    };
    this.pings = new Pings(shared);
    this.auth = new Authorizer(config, { logger, ...opts.credentials }, shared);
  }

  updateConfig(config: FerryConfig): void {
    this.config = config;
    this.pings.clear();
    this.auth.updateConfig(config);
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

  /**
   * Requests per second allowed to `host`: its `registries.<host>` setting,
   * else none for ferry's own mirror (its capacity is the operator's, and a
   * budget there only slows every copy: each image of a far-upstream run was
   * throttled to ~1 s by it), else `copy.requestsPerSecond`.
   */
  requestsPerSecondFor(host: string): number {
    // the mirror: only its own entry counts (`registries."*"` is about upstreams)
    if (host === this.config.mirror.registry) return this.config.registries[host]?.requestsPerSecond ?? 0;
    return registryConfigFor(this.config, host)?.requestsPerSecond ?? this.config.copy.requestsPerSecond;
  }

  /**
   * Ping `/v2/` once per host: null = no auth needed, else the challenge.
   * One request shared by every caller; `signal` abandons only this caller's wait.
   */
  ping(host: string, signal?: AbortSignal): Promise<Challenge | null> {
    return this.pings.get(host, signal);
  }

  /** Sends one request with retries for transient failures of replayable requests. */
  request(spec: RequestSpec): Promise<RegistryResponse> {
    const retry = (spec.retry ?? (spec.method === 'GET' || spec.method === 'HEAD')) && isReplayable(spec.body);
    if (!retry) return this.once(spec);
    return withRetries(this, spec.signal, () => this.once(spec), (fe, attempt, waitMs) =>
      this.logger.debug({ host: spec.host, op: spec.op, code: fe.code, attempt, waitMs: Math.round(waitMs) }, 'registry request retry'),
    );
  }

  /** One attempt: authorized, and sent once more with fresh authorization after a 401 (replayable bodies only). */
  private async once(spec: RequestSpec): Promise<RegistryResponse> {
    const { host, signal } = spec;
    const ctx = { host, ...(spec.repository ? { repository: spec.repository } : {}), ...(spec.op ? { op: spec.op } : {}) };
    const endpoint = this.endpoint(host);
    const url = urlUnder(endpoint, spec.path);
    let ch = await this.ping(host, signal);
    let scopes = spec.scopes;
    let auth = await this.auth.header(host, ch, scopes, signal);
    const limiter = limiterFor(host, this.requestsPerSecondFor(host));
    for (let authTry = 0; ; authTry++) {
      await limiter.take(signal);
      const dl = new Deadline(this.timeoutMs, signal);
      const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...spec.headers };
      if (auth) headers.Authorization = auth;
      const body = spec.body === undefined || Buffer.isBuffer(spec.body) ? spec.body : touching(spec.body, dl);
      const t0 = performance.now();
      let res: HttpResponse;
      noteRequest();
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
        const fresh = preferredChallenge(res.headers.get('www-authenticate'));
        if (fresh) {
          ch = fresh;
          this.pings.refreshed(host, fresh);
        }
        if (fresh?.params.scope) scopes = mergeScopes([...scopes, fresh.params.scope]);
        this.auth.forget(host);
        const next = await this.auth.header(host, ch, scopes, signal, true);
        if (next !== undefined) {
          auth = next;
          continue;
        }
        throw classifyHttp({ status: 401, codes: ['UNAUTHORIZED'], method: spec.method, what: spec.what, authenticated: false }, ctx);
      }
      const expected = spec.expect ? spec.expect.includes(res.status) : res.status >= 200 && res.status < 300;
      if (expected) return new RegistryResponse(res, dl, ctx);
      const failure = await errorBodyOf(res, spec.method, dl);
      throw classifyHttp(
        { status: res.status, ...failure, method: spec.method, what: spec.what, retryAfter: res.headers.get('retry-after'), authenticated: !!auth },
        ctx,
      );
    }
  }
}

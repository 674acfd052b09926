/**
 * The Transport composes one registry request from small steps, in the
 * go-containerregistry order:
 *
 *   endpoint (endpoint.ts: scheme and base URL) -> ping `/v2/` (ping.ts:
 *   shared, cached challenge) -> authorization (authorizer.ts: Basic, or a
 *   Bearer token with scopes, cached, refreshed on 401/insufficient_scope)
 *   -> the upstream host's adaptive gate (host-gate.ts, host-gates.ts:
 *   concurrency, Retry-After pauses, RateLimit quota, pull budget; not for
 *   ferry's own mirror) -> the per-host token bucket when a fixed rate is
 *   configured (limiter.ts) -> idle timeout + caller signal
 *   (deadline.ts) -> the wire (http.ts, keep-alive) -> error body and table
 *   (error-body.ts, errors.ts).
 *
 * Idempotent requests without a streamed body are retried on transient
 * failures (retry.ts: backoff, honouring Retry-After up to `maxRetryAfterMs`;
 * the gate's pause ends at the same instant, so the two waits overlap, never
 * add up). A gate hold longer than `maxRetryAfterMs` is not waited either:
 * the request fails at once, unsent, with `retryAfterMs` for the queue.
 * Credentials and tokens are never logged or put in errors.
 */
import type { FerryConfig } from '../../config/types.js';
import { mergeScopes, type Challenge } from '../auth.js';
import { registryConfigFor, type CredentialStoreOptions } from '../credentials.js';
import { classifyHttp, classifyThrown, gateHoldError, parseRetryAfter, registryError, REGISTRY_ERROR_CODES, type HttpFailure } from '../errors.js';
import { gateSettingsFor, type Outcome } from '../host-gate.js';
import { acquireHost, type GatePass } from '../host-gates.js';
import { limiterFor } from '../limiter.js';
import { readQuota } from '../rate-limit-headers.js';
import { noteRequest } from '../request-count.js';
import { noopLogger, type Logger } from '../logger.js';
import { Authorizer } from './authorizer.js';
import { Deadline, touching } from './deadline.js';
import { endpointFor, safePath, urlUnder } from './endpoint.js';
import { errorBodyOf } from './error-body.js';
import { HttpClient, socketsPerHostFor, type Body, type HttpResponse } from './http.js';
import { Pings, preferredChallenge, type PingContext } from './ping.js';
import { RegistryResponse } from './response.js';
import { withRetries, type RetryPolicy } from './retry.js';

/** Scopes asked in one token request by prepareTokens (~40 bytes each in the URL). */
const TOKEN_SCOPES_PER_REQUEST = 50;

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
  /**
   * Does this request count as a pull against the registry's pull limit
   * (Docker Hub counts manifest GETs, not HEADs, not blobs, not the
   * referrers API)? Default: a GET of `/v2/<name>/manifests/<reference>`.
   */
  pull?: boolean;
}

const isManifestGet = (spec: RequestSpec): boolean => spec.method === 'GET' && /\/manifests\/[^/?#]+(?:[?#].*)?$/.test(spec.path);

/** Failures that say the host is overloaded (the gate halves its limit). */
const CONGESTION_CODES: ReadonlySet<string> = new Set([REGISTRY_ERROR_CODES.TIMEOUT, REGISTRY_ERROR_CODES.CONNECTION]);

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
    this.http.setMaxSocketsPerHost(socketsPerHostFor(config));
    this.pings = new Pings(shared);
    this.auth = new Authorizer(config, { logger, ...opts.credentials }, shared);
  }

  updateConfig(config: FerryConfig): void {
    this.config = config;
    this.pings.clear();
    this.auth.updateConfig(config);
    this.http.setMaxSocketsPerHost(socketsPerHostFor(config));
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
   * The fixed rate (requests per second, 0 = none) capping `host` on top of
   * its adaptive gate: its `registries.<host>` setting, else none for
   * ferry's own mirror (its capacity is the operator's, and a budget there
   * only slows every copy: each image of a far-upstream run was throttled to
   * ~1 s by it), else `copy.requestsPerSecond` (default 0: the gate alone).
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

  /**
   * One Bearer token for many `scopes` of `host` (bearer.ts finds it for any
   * request whose scopes it covers), in batches of TOKEN_SCOPES_PER_REQUEST
   * to keep the token URL short. Best effort: on any failure each request
   * asks for its own token, as without this.
   */
  async prepareTokens(host: string, scopes: string[], signal?: AbortSignal): Promise<void> {
    try {
      const ch = await this.ping(host, signal);
      if (ch?.scheme !== 'bearer') return;
      for (let i = 0; i < scopes.length; i += TOKEN_SCOPES_PER_REQUEST) await this.auth.header(host, ch, scopes.slice(i, i + TOKEN_SCOPES_PER_REQUEST), signal);
    } catch (e) {
      this.logger.debug({ host, err: e instanceof Error ? e.message : String(e) }, 'token prefetch failed; requests ask for their own');
    }
  }

  /** Sends one request with retries for transient failures of replayable requests. */
  request(spec: RequestSpec): Promise<RegistryResponse> {
    const retry = (spec.retry ?? (spec.method === 'GET' || spec.method === 'HEAD')) && isReplayable(spec.body);
    if (!retry) return this.once(spec);
    return withRetries(this, spec.signal, () => this.once(spec), (fe, attempt, waitMs) =>
      this.logger.debug({ host: spec.host, op: spec.op, code: fe.code, attempt, waitMs: Math.round(waitMs) }, 'registry request retry'),
    );
  }

  /** What the gate learns from an answer: latency only for requests without a streamed body (an upload's answer waits for its bytes). */
  private outcomeOf(res: HttpResponse, ms: number, timed: boolean): Outcome {
    const get = (name: string) => res.headers.get(name);
    const now = Date.now();
    const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(get('retry-after'), now) : undefined;
    const quota = readQuota(get, now);
    return { status: res.status, ...(timed ? { latencyMs: ms } : {}), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), ...(quota ? { quota } : {}) };
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
    const gated = host !== this.config.mirror.registry;
    const pull = spec.pull ?? isManifestGet(spec);
    for (let authTry = 0; ; authTry++) {
      const pass: GatePass | undefined = gated
        ? await acquireHost(host, gateSettingsFor(this.config, host), {
            pull,
            signal,
            maxHoldMs: this.maxRetryAfterMs,
            refuse: (hold, waitMs) => gateHoldError(hold, waitMs, ctx),
          })
        : undefined;
      try {
        await limiter.take(signal);
      } catch (e) {
        pass?.finish({ failure: 'neutral' });
        throw e;
      }
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
        const fe = classifyThrown(e, ctx, dl.parentAborted);
        pass?.finish({ failure: CONGESTION_CODES.has(fe.code) ? 'congestion' : 'neutral' });
        throw fe;
      }
      dl.touch();
      if (pass) pass.finish(this.outcomeOf(res, performance.now() - t0, isReplayable(spec.body)));
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

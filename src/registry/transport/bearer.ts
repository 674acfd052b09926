/**
 * Bearer tokens: one per (host, realm, service, scopes), cached until just
 * before it expires and fetched once for every caller asking meanwhile
 * (token.ts makes the request). `force` (after a 401) asks again. The
 * request runs under the transport's own signal; a caller's signal abandons
 * only its wait, and the token is cached even when every caller left.
 */
import { mergeScopes, type Challenge } from '../auth.js';
import type { Credentials } from '../credentials.js';
import type { Logger } from '../logger.js';
import { abandonable } from './abandonable.js';
import type { HttpClient } from './http.js';
import { fetchToken, type Token } from './token.js';

export interface BearerContext {
  readonly http: HttpClient;
  readonly logger: Logger;
  readonly userAgent: string;
  timeoutMs(): number;
  rps(host: string): number;
  endpoint(host: string): string;
  /** The shared requests' signal: aborted by the transport's close(), never by a caller. */
  closing(): AbortSignal;
}

export class BearerTokens {
  private readonly tokens = new Map<string, Token>();
  private readonly flights = new Map<string, Promise<Token>>();

  constructor(private readonly ctx: BearerContext) {}

  async get(host: string, ch: Challenge, scopes: string[], creds: Credentials | undefined, signal: AbortSignal | undefined, force: boolean): Promise<Token> {
    const merged = mergeScopes(scopes);
    const key = `${host}|${ch.params.realm}|${ch.params.service ?? ''}|${merged.join(' ')}`;
    const cached = this.tokens.get(key);
    if (!force && cached && cached.expiresAt > Date.now()) return cached;
    let flight = this.flights.get(key);
    if (!flight) {
      const tc = {
        http: this.ctx.http,
        logger: this.ctx.logger,
        userAgent: this.ctx.userAgent,
        timeoutMs: this.ctx.timeoutMs(),
        rps: (h: string) => this.ctx.rps(h),
        endpoint: this.ctx.endpoint(host),
        signal: this.ctx.closing(),
      };
      flight = fetchToken(tc, host, ch, merged, creds).finally(() => this.flights.delete(key));
      // cached even when every caller has abandoned the flight: the next one need not ask again
      flight.then((t) => this.tokens.set(key, t)).catch(() => undefined);
      this.flights.set(key, flight);
    }
    return abandonable(flight, signal, { host, op: 'token request' });
  }

  /** Drops the cached tokens (config change); a request in flight still lands in the cache. */
  clear(): void {
    this.tokens.clear();
  }
}

/**
 * Bearer tokens: one per (host, realm, service, scopes), cached until just
 * before it expires and fetched once for every caller asking meanwhile
 * (token.ts makes the request). A cached token whose scopes cover the ones
 * asked for serves too: one token asked for many repositories at once
 * (Transport.prepareTokens, for a refresh run over many tags) then saves a
 * token request per repository. `force` (after a 401) asks again. The
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
  /** key -> the scopes its token was asked for, resource -> actions (for the coverage lookup). */
  private readonly granted = new Map<string, Map<string, Set<string>>>();
  private readonly flights = new Map<string, Promise<Token>>();

  constructor(private readonly ctx: BearerContext) {}

  async get(host: string, ch: Challenge, scopes: string[], creds: Credentials | undefined, signal: AbortSignal | undefined, force: boolean): Promise<Token> {
    const merged = mergeScopes(scopes);
    const key = `${host}|${ch.params.realm}|${ch.params.service ?? ''}|${merged.join(' ')}`;
    if (!force) {
      const exact = this.tokens.get(key);
      const live = exact && exact.expiresAt > Date.now() ? exact : this.covering(`${host}|${ch.params.realm}|${ch.params.service ?? ''}|`, merged);
      if (live) return live;
    }
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
      flight
        .then((t) => {
          this.tokens.set(key, t);
          this.granted.set(key, scopeMap(merged));
        })
        .catch(() => undefined);
      this.flights.set(key, flight);
    }
    return abandonable(flight, signal, { host, op: 'token request' });
  }

  /** Drops the cached tokens (config change); a request in flight still lands in the cache. */
  clear(): void {
    this.tokens.clear();
    this.granted.clear();
  }

  /**
   * A live cached token for the same registry, realm and service asked for
   * every resource and action of `scopes` (and maybe more). A token server
   * may grant fewer than asked; the registry's 401 then brings the exact
   * token (`force`), which the exact key finds first from then on.
   */
  private covering(prefix: string, scopes: string[]): Token | undefined {
    const now = Date.now();
    const wanted = scopeMap(scopes);
    for (const [key, token] of this.tokens) {
      if (token.expiresAt <= now) {
        // expired: never served again (a new one is fetched), so not kept either
        this.tokens.delete(key);
        this.granted.delete(key);
        continue;
      }
      if (!key.startsWith(prefix)) continue;
      const has = this.granted.get(key);
      if (has && [...wanted].every(([res, actions]) => [...actions].every((a) => has.get(res)?.has(a)))) return token;
    }
    return undefined;
  }
}

/** `repository:a:pull,push` scopes -> resource -> actions. */
function scopeMap(scopes: string[]): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const s of scopes) {
    const i = s.lastIndexOf(':');
    if (i > 0) m.set(s.slice(0, i), new Set(s.slice(i + 1).split(',')));
  }
  return m;
}

/**
 * The ping (`GET /v2/`): does `host` want auth, and which? null = no auth
 * needed, else the challenge (Bearer preferred over Basic). One request per
 * host, shared by every caller and kept until the config changes; a 401
 * with a fresh challenge replaces it (`refreshed`).
 *
 * The shared request runs under the transport's own signal (close), never a
 * caller's: a caller whose job is cancelled abandons only its own wait.
 */
import { parseChallenges, type Challenge } from '../auth.js';
import { classifyHttp, classifyThrown } from '../errors.js';
import { limiterFor } from '../limiter.js';
import { abandonable } from './abandonable.js';
import { Deadline } from './deadline.js';
import type { HttpClient, HttpResponse } from './http.js';

/** What a ping needs from the transport, read at the time of the ping (hot reload may change it). */
export interface PingContext {
  readonly http: HttpClient;
  readonly userAgent: string;
  timeoutMs(): number;
  rps(host: string): number;
  endpoint(host: string): string;
  /** The shared requests' signal: aborted by the transport's close(), never by a caller. */
  closing(): AbortSignal;
}

export class Pings {
  private readonly flights = new Map<string, Promise<Challenge | null>>();

  constructor(private readonly ctx: PingContext) {}

  /** `host`'s challenge; `signal` abandons only this caller's wait. */
  get(host: string, signal?: AbortSignal): Promise<Challenge | null> {
    const ctx = { host, op: 'ping /v2/' };
    if (signal?.aborted) return Promise.reject(classifyThrown(signal.reason, ctx, true));
    let p = this.flights.get(host);
    if (!p) {
      p = this.ping(host, this.ctx.closing());
      this.flights.set(host, p);
      p.catch(() => this.flights.delete(host));
    }
    return abandonable(p, signal, ctx);
  }

  /** A request's 401 named a challenge: later requests to `host` use it without pinging again. */
  refreshed(host: string, ch: Challenge): void {
    this.flights.set(host, Promise.resolve(ch));
  }

  clear(): void {
    this.flights.clear();
  }

  /** The shared ping: `signal` is the transport's own (close), its Deadline the request's timeout. */
  private async ping(host: string, signal: AbortSignal): Promise<Challenge | null> {
    const ctx = { host, op: 'ping /v2/' };
    await limiterFor(host, this.ctx.rps(host)).take(signal);
    const dl = new Deadline(this.ctx.timeoutMs(), signal);
    const endpoint = this.ctx.endpoint(host);
    let res: HttpResponse;
    try {
      res = await this.ctx.http.send({ url: `${endpoint}/v2/`, method: 'GET', headers: { 'User-Agent': this.ctx.userAgent }, signal: dl.signal, origin: endpoint });
      await res.text();
    } catch (e) {
      throw classifyThrown(e, ctx, dl.parentAborted);
    } finally {
      dl.clear();
    }
    if (res.status === 200) return null;
    if (res.status === 401) return preferredChallenge(res.headers.get('www-authenticate')) ?? { scheme: 'basic', params: {} };
    throw classifyHttp({ status: res.status, codes: [], method: 'GET', what: 'ping', retryAfter: res.headers.get('retry-after'), authenticated: false }, ctx);
  }
}

/** Bearer if the registry offers it, else Basic, else none. */
export function preferredChallenge(header: string | null): Challenge | undefined {
  const chs = parseChallenges(header);
  return chs.find((c) => c.scheme === 'bearer') ?? chs.find((c) => c.scheme === 'basic');
}

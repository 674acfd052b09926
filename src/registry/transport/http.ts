/**
 * The wire: node:http / node:https with keep-alive agents.
 *
 * Why not global fetch: Node 20's fetch reads a streamed request body
 * (`duplex: 'half'`) ahead of the socket without backpressure — a 512 MiB
 * upload peaked at ~640 MB RSS and ran at half speed in our measurement —
 * and ferry must stream multi-GiB layers in bounded memory. node:http with
 * stream.pipeline gives real backpressure and lets a failing body (digest
 * mismatch) destroy the request so a chunked PUT is never terminated.
 *
 * GET/HEAD follow redirects (blob downloads are often redirected to a CDN);
 * Authorization is dropped when a redirect leaves the origin. Every hop is
 * checked against the registry it belongs to (outbound.ts) before it is
 * connected, and every address a name resolves to is checked by a guarded
 * `lookup` before the socket connects, so a name pointed at a metadata or
 * loopback address is refused too (DNS rebinding included: the address
 * checked is the one connected to).
 */
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UnsafeTarget } from '../errors.js';
import { addressProblem, loopbackAllowed, outboundProblem } from '../outbound.js';

export type Body = Buffer | AsyncIterable<Uint8Array>;

/** `Headers.get`-like view over IncomingMessage headers (repeated headers joined by ", "). */
export class HeaderView {
  constructor(private readonly h: IncomingMessage['headers']) {}
  get(name: string): string | null {
    const v = this.h[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : String(v);
  }
}

export class HttpResponse {
  readonly headers: HeaderView;
  constructor(
    readonly msg: IncomingMessage,
    readonly url: string,
    private readonly bodyless = false,
  ) {
    this.headers = new HeaderView(msg.headers);
  }
  get status(): number {
    return this.msg.statusCode ?? 0;
  }
  /**
   * Reads up to `limit` bytes of the body as text. A longer body is cut off
   * there (its connection dropped): an upstream streaming an endless error
   * or token body gets no more of ferry's time than that.
   */
  async text(limit = 64 * 1024): Promise<string> {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of this.msg as AsyncIterable<Buffer>) {
      parts.push(c);
      n += c.length;
      if (n > limit) break; // leaving the loop destroys the stream
    }
    return Buffer.concat(parts).subarray(0, limit).toString('utf8');
  }
  /** Lets the connection be reused when the rest is small; otherwise drops it. */
  discard(): void {
    const m = this.msg;
    if (m.readableEnded || m.destroyed) return;
    if (this.bodyless || this.status === 204 || this.status === 304) {
      m.resume();
      return;
    }
    const len = Number(m.headers['content-length'] ?? NaN);
    if (Number.isFinite(len) && len <= 256 * 1024) m.resume();
    else m.destroy();
  }
}

export interface SendOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Body | undefined;
  signal: AbortSignal;
  /** Endpoint of the registry this request is for: what its hops may reach is judged against it (outbound.ts). */
  origin: string;
  /** Follow redirects (default: GET and HEAD only). Token requests pass false. */
  followRedirects?: boolean;
}

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/** scheme://host[:port] of a URL, for messages (never a path or query: those may carry signatures). */
export function targetOf(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/**
 * dns.lookup that refuses (before any connection) a name resolving to an
 * address outbound.ts forbids; one forbidden address among several refuses
 * the name (an answer mixing public and metadata addresses is hostile).
 * `dns.lookup` is read at call time so tests can stand in a hosts table.
 */
export function guardedLookup(allowLoopback: boolean): Lookup {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options }, ((err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => {
      if (err) return callback(err, address, family);
      for (const a of Array.isArray(address) ? address.map((x) => x.address) : [address]) {
        const problem = addressProblem(a, allowLoopback);
        if (problem) return callback(new UnsafeTarget(`${hostname} resolves to ${a}, which ${problem}`, hostname), address, family);
      }
      callback(null, address, family);
    }) as never);
  };
}

/**
 * Connections per registry host, at most, when the owner does not size the
 * pool from its config (`socketsPerHostFor`): enough for the default
 * concurrency (queue.concurrency 8 x copy.layerConcurrency 4, doubled) with
 * room for manifests, pings and referrers.
 */
export const DEFAULT_SOCKETS_PER_HOST = 80;
/**
 * How long an idle keep-alive connection is kept for the next request. Long
 * enough to carry one image's connections over to the next (a far upstream
 * charges a round trip for every new connection, two with TLS), short enough
 * not to hold sockets a registry is about to drop anyway.
 */
export const IDLE_SOCKET_MS = 30_000;

/**
 * Connections per host for `queue.concurrency` copies of
 * `copy.layerConcurrency` blobs each: every blob transfer holds one upstream
 * connection (GET) and one mirror connection (PUT), two on the same host for
 * a copy within one registry, and the referrer step moves blobs alongside the
 * image's: twice the product, plus 16 for manifests, pings and tokens. A
 * full pool queues a request for the next free connection instead of
 * opening one more.
 */
export function socketsPerHostFor(config: { queue: { concurrency: number }; copy: { layerConcurrency: number } }): number {
  const perCopy = Math.max(1, config.copy.layerConcurrency);
  return 2 * Math.max(1, config.queue.concurrency) * perCopy + 16;
}

export interface HttpClientOptions {
  /** Connections per host (default DEFAULT_SOCKETS_PER_HOST). */
  maxSocketsPerHost?: number;
}

export class HttpClient {
  /** Keep-alive pools, one per lookup policy: a socket connected under the lenient policy is never reused under the strict one. */
  private readonly agents = new Map<string, HttpAgent>();
  private maxSocketsPerHost: number;

  constructor(opts: HttpClientOptions = {}) {
    this.maxSocketsPerHost = opts.maxSocketsPerHost ?? DEFAULT_SOCKETS_PER_HOST;
  }

  /** Resizes every pool (config reload); requests already waiting for a connection get one as the new size allows. */
  setMaxSocketsPerHost(n: number): void {
    this.maxSocketsPerHost = Math.max(1, n);
    for (const a of this.agents.values()) {
      a.maxSockets = this.maxSocketsPerHost;
      a.maxFreeSockets = this.maxSocketsPerHost;
    }
  }

  private agentFor(https: boolean, allowLoopback: boolean): HttpAgent {
    const key = `${https}|${allowLoopback}`;
    let a = this.agents.get(key);
    if (!a) {
      // lifo: the most recently used connection goes next, the others age out after IDLE_SOCKET_MS (the agent's
      // `timeout` only ever closes idle pooled sockets; a request in flight is timed by deadline.ts)
      const o = {
        keepAlive: true,
        scheduling: 'lifo' as const,
        keepAliveMsecs: 1000,
        maxSockets: this.maxSocketsPerHost,
        maxFreeSockets: this.maxSocketsPerHost,
        timeout: IDLE_SOCKET_MS,
      };
      a = https ? new HttpsAgent(o) : new HttpAgent(o);
      this.agents.set(key, a);
    }
    return a;
  }

  async send(opts: SendOptions): Promise<HttpResponse> {
    let url = new URL(opts.url);
    const origin = new URL(opts.origin);
    const headers: Record<string, string> = { ...opts.headers };
    const follow = opts.followRedirects ?? (opts.method === 'GET' || opts.method === 'HEAD');
    for (let hop = 0; ; hop++) {
      const problem = outboundProblem(url, origin);
      if (problem) throw new UnsafeTarget(hop === 0 ? problem : `redirect ${hop}: ${problem}`, targetOf(url));
      const msg = await this.once(url, opts.method, headers, opts.body, opts.signal, loopbackAllowed(url, origin));
      const status = msg.statusCode ?? 0;
      const loc = msg.headers.location;
      if (follow && REDIRECT_STATUSES.has(status) && loc && hop < MAX_REDIRECTS) {
        msg.resume();
        let next: URL;
        try {
          next = new URL(loc, url);
        } catch {
          throw new UnsafeTarget('redirect to an invalid URL', targetOf(url));
        }
        if (next.origin !== url.origin) delete headers.Authorization;
        url = next;
        continue;
      }
      return new HttpResponse(msg, url.toString(), opts.method === 'HEAD');
    }
  }

  private once(url: URL, method: string, headers: Record<string, string>, body: Body | undefined, signal: AbortSignal, allowLoopback: boolean): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const https = url.protocol === 'https:';
      const h: OutgoingHttpHeaders = { ...headers };
      if (Buffer.isBuffer(body)) h['Content-Length'] = body.length;
      else if (body === undefined && (method === 'PUT' || method === 'POST' || method === 'PATCH')) h['Content-Length'] = 0;
      const lookup = guardedLookup(allowLoopback);
      const req = (https ? httpsRequest : httpRequest)(url, { method, headers: h, agent: this.agentFor(https, allowLoopback), lookup, signal });
      let settled = false;
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        reject(e);
      };
      req.once('response', (res) => {
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        resolve(res);
      });
      req.once('error', fail);
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        // Streamed body: backpressure through pipeline; a throwing source destroys the
        // request (the chunked body is never terminated, the server discards it).
        pipeline(Readable.from(body, { objectMode: false, highWaterMark: 64 * 1024 }), req).catch((e) => {
          fail(e);
          req.destroy(e instanceof Error ? e : new Error(String(e)));
        });
      }
    });
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}

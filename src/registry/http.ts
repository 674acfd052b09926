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
 * Authorization is dropped when a redirect leaves the origin.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

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
  /** Reads up to `limit` bytes of the body as text (the rest is discarded). */
  async text(limit = 64 * 1024): Promise<string> {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of this.msg as AsyncIterable<Buffer>) {
      if (n < limit) parts.push(c);
      n += c.length;
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
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class HttpClient {
  private readonly httpAgent = new HttpAgent({ keepAlive: true, scheduling: 'lifo', keepAliveMsecs: 1000 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, scheduling: 'lifo', keepAliveMsecs: 1000 });

  async send(opts: SendOptions): Promise<HttpResponse> {
    let url = new URL(opts.url);
    const headers: Record<string, string> = { ...opts.headers };
    const follow = opts.method === 'GET' || opts.method === 'HEAD';
    for (let hop = 0; ; hop++) {
      const msg = await this.once(url, opts.method, headers, opts.body, opts.signal);
      const status = msg.statusCode ?? 0;
      const loc = msg.headers.location;
      if (follow && REDIRECTS.has(status) && loc && hop < 5) {
        msg.resume();
        const next = new URL(loc, url);
        if (next.origin !== url.origin) delete headers.Authorization;
        url = next;
        continue;
      }
      return new HttpResponse(msg, url.toString(), opts.method === 'HEAD');
    }
  }

  private once(url: URL, method: string, headers: Record<string, string>, body: Body | undefined, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const https = url.protocol === 'https:';
      const h: OutgoingHttpHeaders = { ...headers };
      if (Buffer.isBuffer(body)) h['Content-Length'] = body.length;
      else if (body === undefined && (method === 'PUT' || method === 'POST' || method === 'PATCH')) h['Content-Length'] = 0;
      const req = (https ? httpsRequest : httpRequest)(url, { method, headers: h, agent: https ? this.httpsAgent : this.httpAgent, signal });
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
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

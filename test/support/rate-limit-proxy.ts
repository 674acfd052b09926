/**
 * An HTTP proxy in front of a registry that plays a rate-limiting upstream:
 * for each request, `policy` may answer in its place (a 429 with
 * Retry-After, a 503) or let it through, adding headers to the real answer
 * (Docker Hub's `ratelimit-*`). Every request is logged with its arrival
 * time, so a test can see what was sent when.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** Date.now() when it arrived. */
  at: number;
}

/** What the proxy does with one request: answer it (status, headers) or pass it on with extra headers. */
export type Verdict = { answer: number; headers?: Record<string, string> } | { pass: true; headers?: Record<string, string> };

export interface RateLimitProxy {
  host: string;
  /** Every request so far, in arrival order. */
  readonly log: ProxiedRequest[];
  /** Decides each request; the default lets everything through. */
  policy: (r: ProxiedRequest) => Verdict;
  /** Resolves with the first logged request (from now on) that `match` accepts. */
  next(match: (r: ProxiedRequest) => boolean): Promise<ProxiedRequest>;
  close(): Promise<void>;
}

/** `target` is the registry's `host:port`. */
export async function startRateLimitProxy(target: string): Promise<RateLimitProxy> {
  const [thost = '127.0.0.1', tport = '80'] = target.split(':');
  const watchers: { match: (r: ProxiedRequest) => boolean; resolve: (r: ProxiedRequest) => void }[] = [];
  const proxy: RateLimitProxy = {
    host: '',
    log: [],
    policy: () => ({ pass: true }),
    next: (match) => new Promise((resolve) => watchers.push({ match, resolve })),
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const r: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', at: Date.now() };
    proxy.log.push(r);
    for (const w of [...watchers]) {
      if (w.match(r)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(r);
      }
    }
    const v = proxy.policy(r);
    if ('answer' in v) {
      req.resume();
      const body = JSON.stringify({ errors: [{ code: v.answer === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: 'slow down' }] });
      res.writeHead(v.answer, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...v.headers });
      res.end(body);
      return;
    }
    const up = request({ host: thost, port: Number(tport), method: req.method, path: req.url, headers: req.headers }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, { ...ures.headers, ...v.headers });
      ures.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  proxy.host = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return proxy;
}

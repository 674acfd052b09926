/**
 * An HTTP proxy in front of a registry that records every request it
 * forwards (method, path, status, when), so a test can count what actually
 * reached the registry: manifest PUTs per repository, finished blob uploads.
 * Host headers pass through unchanged, so the registry's upload Locations
 * point back at the proxy and every request of a copy is seen. An optional
 * `delayMs` holds each request before forwarding, to keep copies in flight
 * long enough for a test to act on them.
 *
 * (Owned by the issue-14 "scale past one machine" work:
 * test/worker/multi-process.test.ts. Another helper has its own proxies:
 * request-log-proxy.ts, round-trip-proxy.ts.)
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  /** Path without the query. */
  path: string;
  query: URLSearchParams;
  status: number;
  /** ms since the epoch when the answer's head arrived. */
  at: number;
}

export interface CountingProxy {
  /** host:port to use in place of the registry */
  host: string;
  /** Every request answered so far, in order. */
  seen: SeenRequest[];
  /** `PUT /v2/<repo>/manifests/<tag or digest>` answered 201, by repository. */
  manifestPuts(): Map<string, number>;
  /** Blob uploads the registry finished (PUT/POST with `digest=` answered 201), by repository. */
  blobUploads(): Map<string, number>;
  close(): Promise<void>;
}

const MANIFEST_PATH = /^\/v2\/(.+)\/manifests\/[^/]+$/;
const UPLOAD_PATH = /^\/v2\/(.+)\/blobs\/uploads\//;

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

/** `target` is the registry's `host:port`. */
export async function startCountingProxy(target: string, opts: { delayMs?: number } = {}): Promise<CountingProxy> {
  const [thost = '127.0.0.1', tport = '80'] = target.split(':');
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const upstream = request({ host: thost, port: Number(tport), method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const url = new URL(req.url ?? '/', 'http://proxy');
      seen.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, status: answer.statusCode ?? 0, at: Date.now() });
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  const server = createServer((req, res) => {
    if (opts.delayMs) {
      req.pause();
      setTimeout(() => forward(req, res), opts.delayMs).unref();
    } else forward(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    host: `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    seen,
    manifestPuts() {
      const out = new Map<string, number>();
      for (const r of seen) {
        const m = r.method === 'PUT' && r.status === 201 ? MANIFEST_PATH.exec(r.path) : null;
        if (m) bump(out, m[1]!);
      }
      return out;
    },
    blobUploads() {
      const out = new Map<string, number>();
      for (const r of seen) {
        const m = (r.method === 'PUT' || r.method === 'POST') && r.status === 201 && r.query.has('digest') ? UPLOAD_PATH.exec(r.path) : null;
        if (m) bump(out, m[1]!);
      }
      return out;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

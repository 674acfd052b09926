/**
 * An HTTP reverse proxy on loopback that records every request it forwards
 * (method, path without the query, status), so a test can assert exactly
 * which registry requests an operation cost. It parses HTTP (node:http), so
 * keep-alive connections carrying many requests are counted right, unlike a
 * TCP proxy that guesses request lines from chunks. Bodies are streamed
 * through untouched. The client's `Host` header is kept, so the absolute
 * upload `Location`s docker-registry builds from it point back at the proxy
 * (uploads are counted too); a token realm is not behind it.
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface LoggedRequest {
  method: string;
  /** Path without the query string, e.g. `/v2/demo/app/manifests/1`. */
  path: string;
  status: number;
}

export interface RequestLogProxy {
  /** host:port to use in place of the target */
  host: string;
  /** Every request answered so far, in the order they were answered. */
  readonly requests: LoggedRequest[];
  /** Forgets what was recorded. */
  reset(): void;
  /** `HEAD manifests/<tag>`, `GET tags/list`, `GET /v2/`...: counts per kind of what was recorded. */
  kinds(): Record<string, number>;
  close(): Promise<void>;
}

/** What a registry request was for, without repository names: `HEAD manifests/<tag>`, `GET blobs/<digest>`, `GET /v2/`. */
export function requestKind(method: string, path: string): string {
  const m = /^\/v2\/.+\/(manifests|blobs|referrers|tags)\/([^/]*)$/.exec(path);
  if (!m) return `${method} ${path.startsWith('/v2/') && path.includes('/blobs/uploads') ? '/v2/<repo>/blobs/uploads' : path}`;
  const [, what, id] = m;
  if (what === 'tags') return `${method} tags/${id}`;
  return `${method} ${what}/${id!.includes(':') ? '<digest>' : '<tag>'}`;
}

/** `target` is the upstream's `host:port`. */
export async function startRequestLogProxy(target: string): Promise<RequestLogProxy> {
  const [thost = '127.0.0.1', tport = '80'] = target.split(':');
  const agent = new Agent({ keepAlive: true });
  let requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const up = request(
      { host: thost, port: Number(tport), method: req.method, path: req.url, headers: req.headers, agent },
      (ures) => {
        requests.push({ method: req.method ?? '?', path, status: ures.statusCode ?? 0 });
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        ures.pipe(res);
      },
    );
    up.on('error', () => {
      requests.push({ method: req.method ?? '?', path, status: 502 });
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    host: `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    get requests() {
      return requests;
    },
    reset() {
      requests = [];
    },
    kinds() {
      const out: Record<string, number> = {};
      for (const r of requests) {
        const k = requestKind(r.method, r.path);
        out[k] = (out[k] ?? 0) + 1;
      }
      return out;
    },
    async close() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

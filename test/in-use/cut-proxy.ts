/**
 * An HTTP proxy in front of the stand-in Kubernetes API that a test can cut:
 * `cut()` drops every open connection (watches included) and answers 503
 * until `restore()`, as an API server restart or a network partition would.
 * `refuseWatches(true)` answers 500 to watch requests only (lists still pass).
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface CutProxy {
  url: string;
  cut(): void;
  restore(): void;
  refuseWatches(on: boolean): void;
  close(): Promise<void>;
}

export async function startCutProxy(target: string): Promise<CutProxy> {
  const to = new URL(target);
  let down = false;
  let noWatches = false;
  const sockets = new Set<Socket>();
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    if (noWatches && /[?&]watch=(true|1)\b/.test(req.url ?? '')) {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"kind":"Status","code":500,"message":"no watches"}');
      return;
    }
    if (down) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"kind":"Status","code":503,"message":"cut"}');
      return;
    }
    const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  const server = createServer(forward);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    refuseWatches(on) {
      noWatches = on;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

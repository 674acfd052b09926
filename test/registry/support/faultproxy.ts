/**
 * A fault-injecting HTTP proxy in front of a registry (reverse proxy: the
 * engine talks to the proxy's host:port as if it were the registry).
 * Rules match method + path; each applies `times` times (default: always).
 *   drop      close the socket without answering
 *   status    answer with a status (500, 429...) and optional headers
 *   flip      forward the response, flipping one byte of the body
 *   truncate  forward headers (with Content-Length) and half the body, then cut the connection
 *   stall     accept and never answer
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { freePort } from '../../support/process.js';

export type Fault =
  | { kind: 'drop' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'flip'; offset?: number }
  | { kind: 'truncate' }
  | { kind: 'stall' };

export interface FaultRule {
  method?: string;
  /** Matched against the request path (without query). */
  path: RegExp;
  fault: Fault;
  /** How many matching requests get the fault (default Infinity). */
  times?: number;
}

export interface FaultProxy {
  host: string;
  rules: FaultRule[];
  /** Requests seen: `METHOD path` (+ ` !fault` when a fault was injected). */
  log: string[];
  clear(): void;
  stop(): Promise<void>;
}

export async function startFaultProxy(upstreamHost: string): Promise<FaultProxy> {
  const [uHost, uPort] = upstreamHost.split(':') as [string, string];
  const rules: FaultRule[] = [];
  const used = new Map<FaultRule, number>();
  const log: string[] = [];
  const sockets = new Set<Socket>();

  const pick = (req: IncomingMessage): FaultRule | undefined => {
    const path = (req.url ?? '/').split('?')[0]!;
    for (const r of rules) {
      if (r.method && r.method !== req.method) continue;
      if (!r.path.test(path)) continue;
      const n = used.get(r) ?? 0;
      if (n >= (r.times ?? Infinity)) continue;
      used.set(r, n + 1);
      return r;
    }
    return undefined;
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const rule = pick(req);
    const path = (req.url ?? '/').split('?')[0]!;
    log.push(`${req.method} ${path}${rule ? ` !${rule.fault.kind}` : ''}`);
    const f = rule?.fault;
    if (f?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (f?.kind === 'stall') return;
    if (f?.kind === 'status') {
      req.resume();
      res.writeHead(f.status, { 'Content-Type': 'application/json', ...f.headers });
      res.end(f.body ?? JSON.stringify({ errors: [{ code: f.status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN', message: 'injected fault' }] }));
      return;
    }
    const up = request(
      { host: uHost, port: Number(uPort), method: req.method, path: req.url, headers: req.headers },
      (ur) => {
        const headers = { ...ur.headers };
        if (f?.kind === 'flip') {
          res.writeHead(ur.statusCode ?? 502, headers);
          let pos = 0;
          const at = f.offset ?? 100;
          ur.on('data', (c: Buffer) => {
            if (at >= pos && at < pos + c.length) {
              c = Buffer.from(c);
              c[at - pos] = c[at - pos]! ^ 0xff;
            }
            pos += c.length;
            res.write(c);
          });
          ur.on('end', () => res.end());
          return;
        }
        if (f?.kind === 'truncate') {
          res.writeHead(ur.statusCode ?? 502, headers);
          const total = Number(ur.headers['content-length'] ?? 0);
          let sent = 0;
          ur.on('data', (c: Buffer) => {
            const room = Math.floor(total / 2) - sent;
            if (room <= 0) return;
            const part = c.subarray(0, room);
            sent += part.length;
            res.write(part);
            if (sent >= Math.floor(total / 2)) {
              ur.destroy();
              setTimeout(() => res.socket?.destroy(), 20);
            }
          });
          return;
        }
        res.writeHead(ur.statusCode ?? 502, headers);
        ur.pipe(res);
      },
    );
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${port}`,
    rules,
    log,
    clear() {
      rules.length = 0;
      used.clear();
      log.length = 0;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

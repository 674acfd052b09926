/**
 * A loopback CloudEvents receiver: records every request, answers with the
 * statuses it is told to (then 200), and can stop listening and start again
 * on the same port (a refused connection in between). Emits `request`.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
}

export class Receiver extends EventEmitter {
  readonly requests: Received[] = [];
  /** Statuses for the next requests, in order; then 200. */
  answers: number[] = [];
  private server: Server | undefined;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }

  /** Only the requests answered 2xx. */
  get delivered(): Received[] {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300);
  }

  async listen(port = this.port): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = this.answers.shift() ?? 200;
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const r: Received = { status, headers: req.headers, body, json };
        this.requests.push(r);
        res.writeHead(status, { connection: 'close' }).end();
        this.emit('request', r);
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Resolves with the first request matching `pred` from now on (or already received). */
  next(pred: (r: Received) => boolean, timeoutMs = 20_000): Promise<Received> {
    const seen = this.requests.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const on = (r: Received) => {
        if (!pred(r)) return;
        clearTimeout(timer);
        this.off('request', on);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.off('request', on);
        reject(new Error(`no matching request within ${timeoutMs} ms; got ${this.requests.map((r) => r.status).join(',')}`));
      }, timeoutMs);
      this.on('request', on);
    });
  }
}

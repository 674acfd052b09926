/**
 * An HTTP reverse proxy in front of a real registry that records what
 * crosses it, for tests that count round trips: every request as
 * `METHOD path?query STATUS` once answered, and the connections clients
 * opened. Options make it misbehave in the ways a test needs:
 *  - `refuseMounts`: a cross-repository mount (`POST .../blobs/uploads/?mount=..&from=..`)
 *    is forwarded WITHOUT its query, so the registry answers 202 with a
 *    plain upload session, as a registry does that will not mount;
 *  - `rewriteDigestHeader`: manifest GETs and HEADs answer with this
 *    `Docker-Content-Digest` instead of the registry's (a registry that lies);
 *  - `hold(match)`: requests matching are held before they are forwarded
 *    until the test releases them (an event to await, not a sleep).
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { freePort } from './process.js';

export interface Held {
  /** Resolves when the first matching request arrived (and is being held). */
  arrived: Promise<void>;
  /** Lets every held (and later) matching request through. */
  release(): void;
}

export interface RoundTripProxy {
  /** host:port to use in place of the registry */
  host: string;
  /** `METHOD path?query STATUS` of every request, in the order answered. */
  log: string[];
  /** Connections accepted so far. */
  connections(): number;
  /** Log lines matching `re`. */
  count(re: RegExp): number;
  /** Forgets the log and the connection count (open connections stay open). */
  reset(): void;
  hold(match: (method: string, path: string) => boolean): Held;
  stop(): Promise<void>;
}

export interface RoundTripProxyOptions {
  refuseMounts?: boolean;
  rewriteDigestHeader?: string;
}

interface Hold {
  match: (method: string, path: string) => boolean;
  open: boolean;
  waiting: (() => void)[];
  arrive: () => void;
}

export async function startRoundTripProxy(target: string, opts: RoundTripProxyOptions = {}): Promise<RoundTripProxy> {
  const [th, tp] = target.split(':');
  const port = await freePort();
  let log: string[] = [];
  let connections = 0;
  const holds: Hold[] = [];

  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let path = `${url.pathname}${url.search}`;
    const line = `${req.method} ${path}`;
    res.on('finish', () => log.push(`${line} ${res.statusCode}`));
    let gone = false;
    res.on('close', () => {
      gone = true;
      if (!res.writableFinished) log.push(`${line} aborted`);
    });
    for (const h of holds) {
      if (h.open || !h.match(req.method ?? '', path)) continue;
      h.arrive();
      await new Promise<void>((r) => h.waiting.push(r));
    }
    // the client gave up while held: nothing to forward
    if (gone) return;
    if (opts.refuseMounts && req.method === 'POST' && url.searchParams.has('mount')) path = url.pathname;
    const out = request({ host: th, port: Number(tp), method: req.method, path, headers: req.headers }, (r) => {
      const headers = { ...r.headers };
      if (opts.rewriteDigestHeader && /\/manifests\//.test(path) && headers['docker-content-digest']) headers['docker-content-digest'] = opts.rewriteDigestHeader;
      res.writeHead(r.statusCode ?? 502, headers);
      r.pipe(res);
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${port}`,
    get log() {
      return log;
    },
    connections: () => connections,
    count: (re) => log.filter((l) => re.test(l)).length,
    reset() {
      log = [];
      connections = 0;
    },
    hold(match) {
      let arrive!: () => void;
      const arrived = new Promise<void>((r) => (arrive = r));
      const h: Hold = { match, open: false, waiting: [], arrive };
      holds.push(h);
      return {
        arrived,
        release() {
          h.open = true;
          for (const w of h.waiting.splice(0)) w();
        },
      };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const h of holds) h.waiting.splice(0).forEach((w) => w());
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

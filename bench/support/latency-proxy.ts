/**
 * A userspace TCP latency proxy (the kernel's netem is not available here):
 * put it in front of a loopback registry to make it look far away.
 *
 * Every chunk read from either side is written to the other side `rttMs / 2`
 * later, so one request/response exchange costs about one RTT. Order is kept
 * per connection and direction (one FIFO per direction, one timer each). The
 * TCP handshake is modelled too: a new connection carries nothing upstream
 * before one RTT has passed since it was accepted (SYN / SYN-ACK), so the first
 * request on a fresh connection costs ~2 RTT, as on a real far link. TLS is
 * not involved (plain HTTP registries). Bandwidth is not limited: only latency.
 *
 * It also counts what crosses it: connections, and HTTP requests (request
 * lines at the start of a client chunk; the proxied registry only gets GET /
 * HEAD from copies, so request bodies do not confuse the count).
 */
import { connect, createServer, type Socket } from 'node:net';

export interface LatencyProxy {
  /** host:port to use in place of the target */
  host: string;
  rttMs: number;
  /** Connections accepted and HTTP requests seen so far (client -> target). */
  stats(): { connections: number; requests: number; kinds: Record<string, number> };
  resetStats(): void;
  close(): Promise<void>;
}

type Item = { due: number; chunk: Buffer } | { due: number; end: true };

/** Delays what `from` sends to `to` by `delayMs`, in order; `notBefore` holds the first bytes (handshake). */
function delayedPipe(from: Socket, to: Socket, delayMs: number, notBefore: number, onChunk?: (c: Buffer) => void): void {
  const q: Item[] = [];
  let timer: NodeJS.Timeout | undefined;
  let lastDue = notBefore;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (q.length && q[0]!.due <= now + 0.5) {
      const it = q.shift()!;
      if (to.destroyed) return;
      if ('end' in it) to.end();
      else if (!to.write(it.chunk)) {
        // the far side is slow to read: stop reading here until it drains (the queue still holds what is in flight)
        from.pause();
        to.once('drain', () => from.resume());
      }
    }
    schedule();
  };
  const schedule = () => {
    if (timer || !q.length) return;
    timer = setTimeout(flush, Math.max(0, q[0]!.due - performance.now()));
  };
  const push = (it: Item) => {
    q.push(it);
    schedule();
  };
  from.on('data', (chunk: Buffer) => {
    onChunk?.(chunk);
    // monotonic due times keep the order even if the clock reading jitters
    lastDue = Math.max(performance.now() + delayMs, lastDue);
    push({ due: lastDue, chunk });
  });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    lastDue = Math.max(performance.now() + delayMs, lastDue);
    push({ due: lastDue, end: true });
  };
  // FIN, or the side went away without one: the other side gets its FIN after the same delay
  from.on('end', end);
  from.on('close', end);
  const cleanup = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  to.on('close', cleanup);
}

const REQUEST_LINE = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) \//;

/** `GET manifests/<tag>`, `HEAD blobs/<digest>`, `GET manifests/<sha256-fallback-tag>`, `GET /v2/`...: what a request was for. */
function requestKind(head: string): string {
  const m = /^(\S+) (\S+)/.exec(head);
  if (!m) return 'other';
  const [, method, path] = m;
  const u = /^\/v2\/(?:.+)\/(manifests|blobs|referrers|tags)\/([^?\s]*)/.exec(path!);
  if (!u) return `${method} ${path!.split('?')[0]}`;
  const [, what, id] = u;
  const idKind = id!.startsWith('sha256:') ? '<digest>' : /^sha256-[0-9a-f]{64}(\.\w+)?$/.test(id!) ? `<sha256-tag${id!.includes('.') ? id!.slice(id!.lastIndexOf('.')) : ''}>` : what === 'tags' ? id! : '<tag>';
  return `${method} ${what}/${idKind}`;
}

/** `target` is the upstream's `host:port`; `rttMs` the round-trip time to simulate. */
export async function startLatencyProxy(target: string, rttMs: number): Promise<LatencyProxy> {
  const [thost = '127.0.0.1', tport = '80'] = target.split(':');
  const half = rttMs / 2;
  const sockets = new Set<Socket>();
  let connections = 0;
  let requests = 0;
  let kinds: Record<string, number> = {};
  const server = createServer({ allowHalfOpen: true }, (client) => {
    connections++;
    const accepted = performance.now();
    const upstream = connect({ port: Number(tport), host: thost, allowHalfOpen: true });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    // a socket is done when both directions ended; close the pair once both have closed their write side
    let closed = 0;
    const onClose = () => {
      if (++closed === 2) drop();
    };
    client.on('close', onClose);
    upstream.on('close', onClose);
    // handshake: the first bytes reach the target no earlier than accept + RTT (SYN-ACK back) + RTT/2
    delayedPipe(client, upstream, half, accepted + rttMs + half, (c) => {
      const head = c.subarray(0, 300).toString('latin1');
      if (!REQUEST_LINE.test(head)) return;
      requests++;
      const k = requestKind(head);
      kinds[k] = (kinds[k] ?? 0) + 1;
    });
    delayedPipe(upstream, client, half, 0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    host: `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    rttMs,
    stats: () => ({ connections, requests, kinds: { ...kinds } }),
    resetStats() {
      connections = 0;
      requests = 0;
      kinds = {};
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * A TCP proxy in front of a registry that limits the bytes flowing back from
 * the target to clients (all connections share one budget), so a copy through
 * it lasts long enough for a test to watch it (`copying`) or interrupt it.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface ThrottleProxy {
  /** host:port to use in place of the target */
  host: string;
  close(): Promise<void>;
}

/** `target` is the upstream's `host:port`. */
export async function startThrottleProxy(target: string, bytesPerSecond: number): Promise<ThrottleProxy> {
  const [thost = '127.0.0.1', tport = '80'] = target.split(':');
  let nextFree = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(tport), thost);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      const now = performance.now();
      nextFree = Math.max(now, nextFree) + (chunk.length / bytesPerSecond) * 1000;
      const wait = nextFree - now;
      if (wait > 5) {
        upstream.pause();
        setTimeout(() => upstream.resume(), wait).unref();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    host: `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

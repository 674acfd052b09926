/**
 * A TCP proxy that limits the bandwidth from the target back to clients (all
 * connections share one budget), so a copy through it lasts long enough for a
 * test to interrupt it.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface ThrottleProxy {
  host: string;
  close(): Promise<void>;
}

export async function startThrottleProxy(target: { host: string; port: number }, bytesPerSecond: number): Promise<ThrottleProxy> {
  let nextFree = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
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
      const start = Math.max(now, nextFree);
      nextFree = start + (chunk.length / bytesPerSecond) * 1000;
      const wait = nextFree - now;
      if (wait > 5) {
        upstream.pause();
        setTimeout(() => upstream.resume(), wait).unref();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

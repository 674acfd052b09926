/**
 * A TCP proxy in front of a registry that limits bytes flowing back to the
 * client (one budget for all connections), so a copy through it stays in
 * `copying` long enough to be watched.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface Throttle {
  /** host:port to use as the upstream registry */
  host: string;
  close(): Promise<void>;
}

export async function startThrottle(target: string, bytesPerSecond: number): Promise<Throttle> {
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

/**
 * A Server-Sent-Events client that stops reading must not grow the server's
 * memory without bound: state events are never skipped for it, so past
 * `sseMaxBufferedBytes` the server drops it (EventSource reconnects and its
 * `hello` resyncs). A raw socket that is paused after `hello` is that client.
 */
import t from 'tap';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { DroppedClient } from '../../src/dashboard/index.js';
import { startRedis } from '../support/redis.js';
import { startDashboardApp } from './support/context.js';
import { SseClient } from './support/sse.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

/** Opens /api/events over a raw socket, resolves once `hello` arrived; the caller then stops reading. */
async function rawSse(url: string): Promise<Socket> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  await once(socket, 'connect');
  socket.write(`GET /api/events HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n\r\n`);
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (!seen.includes('event: hello')) return;
      socket.off('data', onData);
      resolve();
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  return socket;
}

t.test('a client that stops reading is dropped once its buffer passes the cap; others keep streaming', async (t) => {
  const CAP = 256 * 1024;
  const app = await startDashboardApp({ redisUrl: redis.url, prefix: 'slow', dashboard: { sseMaxBufferedBytes: CAP } });
  t.teardown(() => app.close());
  const live = app.dashboard.live;

  const slow = await rawSse(app.url);
  t.teardown(() => slow.destroy());
  slow.pause(); // stops reading: the kernel buffers fill, then the server's
  const healthy = await SseClient.open(`${app.url}/api/events`);
  t.teardown(() => healthy.close());
  await healthy.wait((f) => f.event === 'hello', 'hello');
  t.equal(live.clientCount, 2);

  let dropped: DroppedClient | undefined;
  live.on('dropped', (d: DroppedClient) => (dropped = d));
  // Each state event carries a 64 KiB record; the slow client is never spared one (they are not droppable).
  const big = 'x'.repeat(64 * 1024);
  const feed = app.ctx.records();
  let sent = 0;
  for (; !dropped && sent < 2000; sent++) {
    const relayed = once(feed, 'event'); // Live relays to every client in this same 'event' dispatch
    await app.ctx.store.update('docker.io/library/big:1', { state: 'error', mirrorRef: 'm', lastError: `${sent} ${big}` }, { upsert: true });
    await relayed;
  }
  t.ok(dropped, `dropped after ${sent} events of 64 KiB`);
  t.ok(dropped!.bufferedBytes > CAP, `it was past the cap: ${dropped!.bufferedBytes} bytes waiting`);
  t.ok(dropped!.bufferedBytes < CAP + 2 * big.length, 'the buffer stopped growing within one event of the cap');
  t.equal(live.droppedClients, 1);
  t.equal(live.clientCount, 1, 'only the slow client went');

  // The server ended the slow client's stream: reading again, it reaches the end.
  const closed = once(slow, 'close');
  slow.on('data', () => {});
  slow.resume();
  await closed;
  t.pass('the slow client saw its stream end (EventSource would reconnect)');

  // The healthy client kept every event and keeps streaming.
  await app.ctx.store.update('docker.io/library/after:1', { state: 'queued', mirrorRef: 'm' }, { upsert: true });
  await healthy.state('docker.io/library/after:1', 'queued');
  t.equal(live.clientCount, 1);
});

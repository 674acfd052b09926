import t from 'tap';
import { once } from 'node:events';
import { closeSharedQueue, connectRedis, createQueue } from '../../src/queue/index.js';
import { freePort } from '../support/process.js';

t.test('closing a queue whose shared connection never came up leaves no uncaught error behind', async (t) => {
  const port = await freePort(); // nothing listens there
  const conn = connectRedis(`redis://127.0.0.1:${port}`, { retryStrategy: () => 20 });
  conn.on('error', () => {});
  const queue = createQueue(conn, 'never');
  const forwarded: Error[] = [];
  queue.on('error', (e) => forwarded.push(e));
  await once(conn, 'error'); // BullMQ is waiting for 'ready' and has seen this error
  const stray: unknown[] = [];
  const onStray = (e: unknown) => stray.push(e);
  process.on('unhandledRejection', onStray);
  process.on('uncaughtException', onStray);
  t.teardown(() => {
    process.off('unhandledRejection', onStray);
    process.off('uncaughtException', onStray);
  });
  await closeSharedQueue(queue, conn);
  const ended = once(conn, 'end');
  conn.disconnect(); // what the owner of the connection does at shutdown
  await ended;
  // BullMQ's init rejects now; its own handler (attached first) has run once ours has,
  // and Node reports unhandled rejections before the next macrotask
  await queue.waitUntilReady().catch(() => undefined);
  await new Promise((r) => setImmediate(r));
  t.same(stray, [], 'nothing uncaught');
  t.ok(forwarded.length > 0, "the connect error reached the queue's own listener");
});

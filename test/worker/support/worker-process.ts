/**
 * A worker pool in its own process (for the kill -9 test):
 *   FERRY_TEST_POOL='{"redisUrl":..., "config":{...FerryConfig}, "workerOpts":{...}}' \
 *     node --import tsx test/worker/support/worker-process.ts
 * Prints "ready" once the BullMQ Worker is connected; SIGTERM closes it gracefully.
 */
import { pino } from 'pino';
import type { FerryConfig } from '../../../src/config/index.js';
import { connectRedis, ImageStore } from '../../../src/queue/index.js';
import { RegistryEngine } from '../../../src/registry/index.js';
import { createWorkerPool } from '../../../src/worker/index.js';

if (!process.env.FERRY_TEST_POOL) {
  // Run directly (e.g. `tap test/worker/` picks up every file): nothing to do.
  process.exit(0);
}
const spec = JSON.parse(process.env.FERRY_TEST_POOL) as { redisUrl: string; config: FerryConfig; workerOpts?: Record<string, number> };
const logger = pino({ level: process.env.FERRY_TEST_LOG ?? 'silent' }, pino.destination(2));
const conn = connectRedis(spec.redisUrl);
const workerConn = connectRedis(spec.redisUrl);
const store = new ImageStore(conn, spec.config.queue.prefix);
const engine = new RegistryEngine({ config: spec.config, retries: 0 });
const pool = createWorkerPool({ connection: workerConn, store, config: spec.config, engine, logger, countsIntervalMs: 0, ...(spec.workerOpts ? { workerOpts: spec.workerOpts } : {}) });
await pool.worker.waitUntilReady();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void pool.close().then(async () => {
    await engine.close();
    conn.disconnect();
    workerConn.disconnect();
    process.exit(0);
  });
});

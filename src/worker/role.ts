/**
 * `ferry worker`: the BullMQ consumer pool that copies images upstream ->
 * mirror (SPEC "Processes", "Image states").
 */
import type { StartRole } from '../runtime/index.js';
import { describeError } from '../errors.js';
import { createWorkerPool } from './pool.js';


export const startWorker: StartRole = async (ctx) => {
  const logger = ctx.logger.child({ role: 'worker' });
  const engine = ctx.registry();
  const connection = ctx.redis('worker');
  const pool = createWorkerPool({
    connection,
    store: ctx.store,
    config: ctx.config(),
    engine,
    logger: ctx.logger,
    producer: ctx.producer,
    mirrorRefOf: (ref) => ctx.mirrorRefOf(ref),
  });
  ctx.onConfigChange((next) => {
    pool
      .updateConfig(next)
      .then(({ requeued }) => {
        if (requeued.length) logger.info({ requeued: requeued.length }, 'config change: images in error re-enqueued');
      })
      .catch((e) => logger.error({ err: describeError(e) }, 'applying the new config to the worker failed'));
  });
  ctx.addReadiness('worker', async () => {
    const running = pool.worker.isRunning();
    const redis = connection.status === 'ready';
    return running && redis ? { ok: true } : { ok: false, detail: `worker ${running ? 'running' : 'not running'}, redis ${connection.status}` };
  });
  logger.info({ concurrency: ctx.config().queue.concurrency }, 'worker pool started');
  const role = {
    name: 'worker',
    /** The pool behind the role (for tests and diagnostics). */
    pool,
    async close() {
      await pool.close();
    },
  };
  return role;
};

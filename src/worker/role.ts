/**
 * `ferry worker`: the BullMQ consumer pool that copies images upstream ->
 * mirror (SPEC "Processes", "Image states").
 */
import type { FerryConfig } from '../config/index.js';
import type { StartRole } from '../runtime/index.js';
import { describeError } from '../errors.js';
import { PullSecrets } from '../kube/index.js';
import { createWorkerPool } from './pool.js';

/** Does any registry entry let copies use the requesting pods' pull secrets? */
const readsPullSecrets = (c: FerryConfig): boolean => Object.values(c.registries).some((rc) => rc.credentialsFromPods === true);

export const startWorker: StartRole = async (ctx) => {
  const logger = ctx.logger.child({ role: 'worker' });
  const engine = ctx.registry();
  const connection = ctx.redis('worker');
  // The API client is loaded on the first Secret read, which only a host with credentialsFromPods asks for (also after a reload turns it on).
  const pullSecrets = new PullSecrets({ kube: () => ctx.kube() });
  const checkCluster = (c: FerryConfig): void => {
    if (!readsPullSecrets(c)) return;
    void ctx.kube().then(
      (kube) => {
        if (!kube) logger.warn('registries.<host>.credentialsFromPods is set, but this process has no Kubernetes API (KUBECONFIG or an in-cluster service account): copies use ferry\'s own credentials and no namespace can be verified');
      },
      (e) => logger.warn({ err: describeError(e) }, 'cannot load the Kubernetes API client: pull secrets cannot be read'),
    );
  };
  checkCluster(ctx.config());
  const pool = createWorkerPool({
    connection,
    store: ctx.store,
    config: ctx.config(),
    engine,
    logger: ctx.logger,
    producer: ctx.producer,
    mirrorRefOf: (ref) => ctx.mirrorRefOf(ref),
    pullSecrets,
  });
  ctx.onConfigChange((next, prev) => {
    if (!readsPullSecrets(prev)) checkCluster(next);
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

/**
 * `ferry worker`: the BullMQ consumer pool that copies images upstream ->
 * mirror (SPEC "Processes", "Image states").
 */
import type { FerryConfig } from '../config/index.js';
import type { StartRole } from '../runtime/index.js';
import { describeError } from '../errors.js';
import { PullSecrets } from '../kube/index.js';
import { Notifier, startNotifyConsumer, type NotifyConsumer } from '../notify/index.js';
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
  // `notify:` (docs/notify.md): copies emit `mirrored`/`error`; this role also delivers every queued event (the
  // consumer runs while at least one receiver is configured, and follows reloads of the list).
  const notifier = new Notifier({ connection: ctx.connection, config: () => ctx.config(), logger });
  let notifyConnection: ReturnType<typeof ctx.redis> | undefined;
  let consumer: NotifyConsumer | undefined;
  let consumerChange: Promise<void> = Promise.resolve();
  let closed = false;
  const followNotify = (c: FerryConfig): void => {
    consumerChange = consumerChange.then(async () => {
      if (c.notify.length && !consumer && !closed) {
        notifyConnection ??= ctx.redis('notify');
        consumer = startNotifyConsumer({ connection: notifyConnection, config: () => ctx.config(), engine, logger });
        logger.info({ receivers: c.notify.length }, 'notify: delivering events');
      } else if (!c.notify.length && consumer) {
        const stopping = consumer;
        consumer = undefined;
        await stopping.close();
        logger.info('notify: no receivers left; delivery stopped (queued events wait in Redis)');
      }
    }).catch((e) => logger.error({ err: describeError(e) }, 'notify: starting or stopping delivery failed'));
  };
  followNotify(ctx.config());
  const pool = createWorkerPool({
    notifier,
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
    followNotify(next);
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
    /** The notify consumer while `notify:` has receivers (for tests and diagnostics). */
    notifyConsumer: () => consumer,
    async close() {
      closed = true;
      await pool.close();
      await consumerChange;
      await consumer?.close();
      await notifier.close();
    },
  };
  return role;
};

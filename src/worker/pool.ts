/**
 * A BullMQ Worker on the copy queue plus what keeps it honest: the `ferry`
 * backoff strategy, hot-reloaded concurrency (the engine belongs to its owner, who reconfigures it), the
 * config-change re-enqueue of `error` images, per-state gauges, stalled-job
 * bookkeeping and a bounded graceful close.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Job, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FerryConfig } from '../config/index.js';
import type { NotifySink } from '../notify/index.js';
import { describeError } from '../errors.js';
import { COPY_JOB, QUEUE_NAME, type CopyJobData, type ImageStore, type Producer } from '../queue/index.js';
import type { RegistryEngineOptions } from '../registry/index.js';
import { CredentialEngines } from './credential-engines.js';
import type { CopyEngine } from './engine.js';
import { setStateCounts } from './metrics.js';
import { backoffStrategy, createProcessor, type CopyJobResult } from './processor.js';
import { diffConfig, hasRelevantChange, requeueReason } from './requeue-rule.js';
import { WorkerTenancy, type PullSecretsReader } from './tenancy.js';

export interface WorkerPoolOptions {
  /** Dedicated connection for the BullMQ Worker (it duplicates its own blocking connection). Not closed by the pool. */
  connection: Redis;
  store: ImageStore;
  config: FerryConfig;
  engine: CopyEngine;
  logger: Logger;
  /** With `mirrorRefOf`: enables re-enqueueing `error` images when the relevant config changes. */
  producer?: Producer;
  mirrorRefOf?: (ref: string) => string;
  /**
   * Reads the requesting pods' pull secrets (src/kube PullSecrets), for
   * hosts with `credentialsFromPods`. Absent: copies use ferry's own
   * credentials and no namespace's secret is verified.
   */
  pullSecrets?: PullSecretsReader;
  /** Queues `notify:` events (`mirrored`, `error`); absent: none are emitted. */
  notifier?: NotifySink;
  /** Options of the engines that copy or probe with other credentials than ferry's (tests: `retries: 0`). */
  engineOptions?: Omit<RegistryEngineOptions, 'config' | 'logger'>;
  /** BullMQ overrides (tests shorten lockDuration / stalledInterval). */
  workerOpts?: Partial<WorkerOptions>;
  /** How long close() waits for active copies before handing them back. Default 30 s. */
  closeTimeoutMs?: number;
  /** Refresh interval of ferry_worker_images. Default 5 s; 0 disables. */
  countsIntervalMs?: number;
  progressIntervalMs?: number;
  now?: () => number;
  rand?: () => number;
}

export interface WorkerPool {
  readonly worker: Worker<CopyJobData, CopyJobResult>;
  config(): FerryConfig;
  /** Applies a reloaded config; resolves when `error` images that became eligible are re-enqueued. */
  updateConfig(next: FerryConfig): Promise<{ requeued: string[] }>;
  /** Re-reads per-state counts into ferry_worker_images now (also done every countsIntervalMs). */
  refreshCounts(): Promise<void>;
  /** Waits for active copies (bounded), hands back what is left, closes the Worker. Idempotent. */
  close(): Promise<void>;
}

/** A job is recovered from a dead worker within ~lockDuration + 2 x stalledInterval: queue.lockMs sets both. */
export const workerOptsFor = (lockMs: number) => ({ lockDuration: lockMs, stalledInterval: Math.round(lockMs / 2), maxStalledCount: 2 }) as const;

export function createWorkerPool(o: WorkerPoolOptions): WorkerPool {
  let cfg = o.config;
  let handingBack = false;
  const logger = o.logger.child({ role: 'worker' });
  const engines = new CredentialEngines({ config: cfg, logger: logger.child({ component: 'registry' }), ...(o.engineOptions ? { engineOptions: o.engineOptions } : {}) });
  const tenancy = new WorkerTenancy({ store: o.store, config: () => cfg, engines, logger, ...(o.pullSecrets ? { pullSecrets: o.pullSecrets } : {}) });
  const processor = createProcessor({
    store: o.store,
    engine: o.engine,
    config: () => cfg,
    logger,
    handingBack: () => handingBack,
    tenancy,
    ...(o.notifier ? { notifier: o.notifier } : {}),
    ...(o.now ? { now: o.now } : {}),
    ...(o.rand ? { rand: o.rand } : {}),
    ...(o.progressIntervalMs !== undefined ? { progressIntervalMs: o.progressIntervalMs } : {}),
  });
  const worker = new Worker<CopyJobData, CopyJobResult>(QUEUE_NAME, processor, {
    ...workerOptsFor(cfg.queue.lockMs),
    ...o.workerOpts,
    connection: o.connection,
    prefix: cfg.queue.prefix,
    concurrency: cfg.queue.concurrency,
    settings: { backoffStrategy: backoffStrategy(() => cfg, o.rand) },
  });
  worker.on('error', (e) => logger.error({ err: describeError(e) }, 'worker error'));
  worker.on('stalled', (jobId) => logger.warn({ jobId }, 'copy job stalled (its worker died or hung): BullMQ re-delivers it'));
  worker.on('failed', (job, err) => {
    if (job?.deferredFailure) void onDeferredFailure(job, err).catch((e) => logger.warn({ err: describeError(e), jobId: job.id }, 'stalled-job bookkeeping failed'));
    if (job?.finishedOn) afterFinished(job);
  });
  worker.on('completed', (job) => afterFinished(job));

  /** A job is over for good: if its image was asked for again meanwhile (e.g. its tag moved), queue that copy now. */
  function afterFinished(job: Job<CopyJobData>): void {
    if (!o.producer || job.name !== COPY_JOB) return;
    o.producer
      .afterJobFinished(job.data.ref)
      .then((again) => again && logger.info({ ref: job.data.ref }, 'image was asked for again during its copy: re-queued'))
      .catch((e) => logger.warn({ err: describeError(e), ref: job.data.ref }, 'could not re-queue an image asked for again during its copy'));
  }

  /**
   * A job that stalled more than maxStalledCount times (its workers kept
   * dying) is failed by BullMQ without calling the processor: record that as
   * `error`, or the image would sit in `copying` forever.
   */
  async function onDeferredFailure(job: Job<CopyJobData>, err: Error): Promise<void> {
    if (job.name !== COPY_JOB) return;
    const rec = await o.store.get(job.data.ref);
    if (!rec || rec.state === 'blocked' || rec.state === 'mirrored' || rec.state === 'error') return;
    await o.store.update(job.data.ref, {
      state: 'error',
      lastError: `the worker copying this image stopped (crashed or was killed) more than ${worker.opts.maxStalledCount ?? 1} time(s): ${err.message}`,
      nextAttemptAt: null,
    });
    logger.error({ ref: job.data.ref, jobId: job.id }, 'copy job failed after repeated worker crashes');
    await o.notifier?.emit({
      event: 'error',
      ref: job.data.ref,
      mirrorRef: job.data.mirrorRef,
      oldDigest: rec.digest ?? null,
      newDigest: null,
      error: { code: null, message: `the worker copying this image stopped more than ${worker.opts.maxStalledCount ?? 1} time(s): ${err.message}` },
      occurrence: `job ${job.id ?? ''}`,
    });
  }

  let countsTimer: NodeJS.Timeout | undefined;
  const countsEvery = o.countsIntervalMs ?? 5000;
  const refreshCounts = (): Promise<void> =>
    o.store
      .counts()
      .then(setStateCounts)
      .catch((e) => logger.debug({ err: describeError(e) }, 'state counts refresh failed'));
  if (countsEvery > 0) {
    void refreshCounts();
    countsTimer = setInterval(refreshCounts, countsEvery);
    countsTimer.unref();
  }

  async function requeueErrors(prev: FerryConfig, next: FerryConfig): Promise<string[]> {
    if (!o.producer || !o.mirrorRefOf) return [];
    const change = diffConfig(prev, next);
    if (!hasRelevantChange(change)) return [];
    // Several worker processes see the same reload: only the first one re-enqueues.
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([next.queue.maxAttempts, [...next.copy.platforms].sort(), next.copy.platformMode, next.mirror, next.registries]))
      .digest('hex')
      .slice(0, 16);
    const lock = await o.store.redis.set(`${next.queue.prefix}:worker:requeue:${fingerprint}`, String(process.pid), 'PX', 60_000, 'NX');
    if (lock !== 'OK') return [];
    const errored = await o.store.redis.smembers(o.store.k.state('error'));
    const records = await o.store.getMany(errored);
    const requeued: string[] = [];
    for (const r of records) {
      const reason = r && requeueReason(r, change);
      if (!r || !reason) continue;
      await o.producer.enqueueNow({ ref: r.ref, mirrorRef: o.mirrorRefOf(r.ref), source: r.source, force: true });
      requeued.push(r.ref);
      logger.info({ ref: r.ref, reason }, 'config changed: image in error re-enqueued');
    }
    return requeued;
  }

  let closing: Promise<void> | undefined;
  const closeTimeoutMs = o.closeTimeoutMs ?? 30_000;

  return {
    worker,
    config: () => cfg,
    refreshCounts,
    async updateConfig(next) {
      const prev = cfg;
      cfg = next;
      engines.updateConfig(next);
      if (next.queue.concurrency !== worker.concurrency) worker.concurrency = next.queue.concurrency;
      return { requeued: await requeueErrors(prev, next) };
    },
    close() {
      closing ??= (async () => {
        if (countsTimer) clearInterval(countsTimer);
        const timeout = (ms: number) => sleep(ms, 'timeout' as const, { ref: false });
        // A Worker closed while still initializing leaves BullMQ's version check pending on the shared
        // connection; when the caller then closes that connection the check rejects unhandled. Let it finish.
        await Promise.race([worker.waitUntilReady().catch(() => {}), timeout(2000)]);
        const closed = worker.close();
        if ((await Promise.race([closed, timeout(closeTimeoutMs)])) !== 'timeout') return;
        // Active copies outlived the bound: abort them; the processor hands each job back (moveToWait).
        handingBack = true;
        logger.warn({ closeTimeoutMs }, 'shutdown: active copies still running; handing them back to the queue');
        worker.cancelAllJobs('ferry worker shutting down');
        if ((await Promise.race([closed, timeout(5000)])) !== 'timeout') return;
        // An engine that ignores the signal: drop the connections; the job's lock expires and BullMQ re-delivers it.
        logger.error('shutdown: copies ignored cancellation; leaving them to stalled-job recovery');
        await worker.disconnect().catch(() => {});
      })().finally(() => engines.close());
      return closing;
    },
  };
}

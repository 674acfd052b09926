/**
 * The delivery side (runs in the worker role): a BullMQ Worker on the
 * `notify` queue. Before a job's first POST it reads the two image configs
 * and stores the diff in the job, so every retry sends the same body (and
 * the same signature). The receiver is looked up in the config in force
 * (hot reload: a removed receiver's jobs are dropped, a new secret is used).
 */
import { UnrecoverableError, Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FerryConfig } from '../config/index.js';
import { describeError } from '../errors.js';
import { withConfigDiff, type ConfigEngine } from './config-fetch.js';
import { deliver, DELIVERY_TIMEOUT_MS } from './delivery.js';
import { hasDigestPair, wants, type NotifyData } from './event.js';
import type { NotifyEvent } from '../config/types.js';
import { deliveriesTotal, setDepthSource } from './metrics.js';
import { createNotifyQueue, findReceiver, NOTIFY_QUEUE, notifyDelay, type NotifyJobData } from './queue.js';

export interface NotifyConsumerOptions {
  /** Its own connection (BullMQ Workers block on theirs). Not closed by the consumer. */
  connection: Redis;
  config(): FerryConfig;
  engine: ConfigEngine;
  logger: Logger;
  /** @defaultValue 4 deliveries at once */
  concurrency?: number;
  /** @defaultValue 10 s per POST */
  timeoutMs?: number;
  workerOpts?: Partial<WorkerOptions>;
  rand?: () => number;
}

export interface NotifyResult {
  outcome: 'delivered' | 'dropped';
  status?: number;
}

export interface NotifyConsumer {
  readonly worker: Worker<NotifyJobData, NotifyResult>;
  close(): Promise<void>;
}

const eventName = (type: string): NotifyEvent => type.replace(/^io\.ferry\./, '') as NotifyEvent;

export function startNotifyConsumer(o: NotifyConsumerOptions): NotifyConsumer {
  const logger = o.logger.child({ component: 'notify' });
  // one diff per event, however many receivers it goes to
  const diffs = new Map<string, Promise<NotifyData>>();
  const diffOf = (job: Job<NotifyJobData>): Promise<NotifyData> => {
    const ev = job.data.event;
    let p = diffs.get(ev.id);
    if (!p) {
      p = withConfigDiff(o.engine, ev.data);
      diffs.set(ev.id, p);
      if (diffs.size > 200) diffs.delete(diffs.keys().next().value as string);
    }
    return p;
  };

  const processor = async (job: Job<NotifyJobData, NotifyResult>): Promise<NotifyResult> => {
    const cfg = o.config();
    let event = job.data.event;
    const name = eventName(event.type);
    const log = logger.child({ eventId: event.id, type: event.type, subject: event.subject, jobId: job.id });
    const target = findReceiver(cfg, job.data.receiver);
    if (!target || !wants(target, name)) {
      deliveriesTotal.inc({ event: name, outcome: 'dropped' });
      log.info('notify: the receiver is no longer configured for this event; delivery dropped');
      return { outcome: 'dropped' };
    }
    if (event.data.configDiff === null && event.data.configDiffReason === undefined && hasDigestPair(event.data)) {
      event = { ...event, data: await diffOf(job) };
      await job.updateData({ ...job.data, event });
    }
    const body = JSON.stringify(event);
    const v = await deliver(target.url, body, target.secret, o.timeoutMs ?? DELIVERY_TIMEOUT_MS);
    if (v.outcome === 'delivered') {
      deliveriesTotal.inc({ event: name, outcome: 'delivered' });
      log.info({ status: v.status, attempt: job.attemptsMade + 1 }, 'notify: event delivered');
      return { outcome: 'delivered', status: v.status };
    }
    if (v.outcome === 'permanent') {
      deliveriesTotal.inc({ event: name, outcome: 'rejected' });
      log.warn({ code: v.error.code, status: v.status, err: v.error.message, hint: v.error.hint }, 'notify: receiver rejected the event; not retried');
      throw new UnrecoverableError(`${v.error.code}: ${v.error.message}`);
    }
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    deliveriesTotal.inc({ event: name, outcome: last ? 'exhausted' : 'retrying' });
    if (last) log.error({ code: v.error.code, err: v.error.message, attempts: job.attemptsMade + 1 }, 'notify: delivery failed for the last time; event lost for this receiver');
    else log.warn({ code: v.error.code, err: v.error.message, attempt: job.attemptsMade + 1 }, 'notify: delivery failed; retrying with backoff');
    throw v.error;
  };

  const worker = new Worker<NotifyJobData, NotifyResult>(NOTIFY_QUEUE, processor, {
    ...o.workerOpts,
    connection: o.connection,
    prefix: o.config().queue.prefix,
    concurrency: o.concurrency ?? 4,
    settings: { backoffStrategy: (attemptsMade: number) => notifyDelay(attemptsMade, o.config().queue.backoff, o.rand) },
  });
  worker.on('error', (e) => logger.error({ err: describeError(e) }, 'notify worker error'));
  const depthQueue = createNotifyQueue(o.connection, o.config().queue.prefix);
  depthQueue.on('error', () => {});
  setDepthSource(() => depthQueue.getJobCounts('waiting', 'delayed', 'active'));

  let closing: Promise<void> | undefined;
  return {
    worker,
    close() {
      closing ??= (async () => {
        setDepthSource(undefined);
        await worker.waitUntilReady().catch(() => {});
        await worker.close();
        if (o.connection.status === 'ready') await depthQueue.close();
      })();
      return closing;
    },
  };
}

/**
 * The delivery queue: its own BullMQ queue `notify` under `queue.prefix`
 * (so a hash-tagged prefix like `{ferry}` keeps every key in one Redis
 * Cluster slot), one job per (event, receiver).
 *
 * Exactly-once story: the job id is `<event id>-<receiver key>`, both
 * hashes of content (event.ts), so the same event emitted twice (two
 * replicas, a retried poll, a refresh run that sees the same drift again
 * before the copy landed) adds nothing: BullMQ ignores an add whose id exists
 * in any state, and completed and failed jobs are kept DEDUP_WINDOW_MS for
 * that reason. Receiver secrets never enter Redis: a job names its receiver
 * by a hash of its URL and the consumer looks it up in the config in force.
 */
import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { backoffDelay } from '../async/index.js';
import type { FerryConfig, NotifyTarget } from '../config/index.js';
import { buildCloudEvent, wants, type CloudEvent, type NotifyInput } from './event.js';
import { emittedTotal } from './metrics.js';

export const NOTIFY_QUEUE = 'notify';
export const NOTIFY_JOB = 'deliver';
export const NOTIFY_BACKOFF = 'ferry-notify';
/** No wait between two attempts exceeds this (as for copies). */
export const NOTIFY_MAX_DELAY_MS = 10 * 60 * 1000;
/** Retries go on for at least this long (with the default backoff: 298 attempts, the last ones 5-10 min apart). */
export const NOTIFY_RETRY_WINDOW_MS = 24 * 3600 * 1000;
/** Upper bound on attempts whatever the backoff (a tiny test backoff would otherwise mean millions). */
export const NOTIFY_MAX_ATTEMPTS = 1000;
/** Finished jobs are kept this long: an event emitted again within it is not delivered again. */
export const DEDUP_WINDOW_MS = 24 * 3600 * 1000;

export interface NotifyJobData {
  event: CloudEvent;
  /** receiverKey(url) of the receiver. */
  receiver: string;
}

export const receiverKey = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 16);

export function findReceiver(cfg: FerryConfig, key: string): NotifyTarget | undefined {
  return cfg.notify.find((t) => receiverKey(t.url) === key);
}

export interface BackoffSettings {
  initialMs: number;
  maxMs: number;
}

/** Delay before attempt `attempt + 1`: doubling from `queue.backoff.initialMs`, capped at min(maxMs, 10 min), equal jitter. */
export function notifyDelay(attempt: number, b: BackoffSettings, rand: () => number = Math.random): number {
  return backoffDelay(attempt, { initialMs: b.initialMs, maxMs: Math.min(b.maxMs, NOTIFY_MAX_DELAY_MS), jitter: 'equal' }, rand);
}

/** Attempts whose shortest possible waits (half of each base delay) add up to NOTIFY_RETRY_WINDOW_MS, at most NOTIFY_MAX_ATTEMPTS. */
export function notifyAttempts(b: BackoffSettings, windowMs = NOTIFY_RETRY_WINDOW_MS): number {
  let total = 0;
  let n = 1;
  while (total < windowMs && n < NOTIFY_MAX_ATTEMPTS) {
    total += notifyDelay(n, b, () => 0);
    n++;
  }
  return n;
}

export function notifyJobOptions(jobId: string, b: BackoffSettings) {
  const age = Math.ceil(DEDUP_WINDOW_MS / 1000);
  return { jobId, attempts: notifyAttempts(b), backoff: { type: NOTIFY_BACKOFF }, removeOnComplete: { age }, removeOnFail: { age } };
}

export function createNotifyQueue(connection: Redis, prefix: string): Queue<NotifyJobData> {
  return new Queue<NotifyJobData>(NOTIFY_QUEUE, { connection, prefix });
}

export interface NotifierOptions {
  /** Shared commands connection (not closed by the notifier). */
  connection: Redis;
  config(): FerryConfig;
  logger?: { warn(o: object, m?: string): void };
  now?: () => number;
}

/** What emitters hold: `emit` queues one delivery per interested receiver. */
export interface NotifySink {
  emit(input: NotifyInput): Promise<number>;
}

/**
 * Emits events onto the delivery queue. Cheap when nobody listens: no queue
 * is made and nothing is written while `notify:` has no receiver for the event.
 */
export class Notifier implements NotifySink {
  private queue: Queue<NotifyJobData> | undefined;

  constructor(private readonly o: NotifierOptions) {}

  /** Resolves with the number of deliveries queued (0: nobody wants it, or all were queued before). Rejects when Redis does. */
  async emit(input: NotifyInput): Promise<number> {
    const cfg = this.o.config();
    const targets = cfg.notify.filter((t) => wants(t, input.event));
    if (!targets.length) return 0;
    const event = buildCloudEvent(input, cfg.mirror.registry, this.o.now);
    this.queue ??= createNotifyQueue(this.o.connection, cfg.queue.prefix);
    let added = 0;
    for (const t of new Set(targets.map((x) => receiverKey(x.url)))) {
      const jobId = `${event.id}-${t}`;
      // BullMQ itself ignores an add whose id exists (that is the guarantee); the look-up first only keeps the count honest
      if (await this.queue.getJob(jobId)) continue;
      await this.queue.add(NOTIFY_JOB, { event, receiver: t }, notifyJobOptions(jobId, cfg.queue.backoff));
      added++;
      emittedTotal.inc({ event: input.event });
    }
    return added;
  }

  async close(): Promise<void> {
    const q = this.queue;
    this.queue = undefined;
    if (q && this.o.connection.status === 'ready') await q.close();
  }
}

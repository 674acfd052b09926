/**
 * ONE schedule per watch across every replica: a BullMQ job scheduler per
 * watch on the `watch` queue (ferry's prefix). BullMQ makes one job per tick
 * whatever the number of `ferry watch` processes, and exactly one worker
 * takes it. Schedulers of watches that disappeared are removed on sync.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { nextCronRun } from '../config/index.js';
import { describeError } from '../errors.js';
import { closeSharedQueue } from '../queue/index.js';
import type { ResolvedWatch } from './definition.js';
import { schedulerId, WATCH_QUEUE_NAME, watchIdOfScheduler } from './keys.js';

export interface PollJobData {
  id: string;
}

export interface SchedulerOptions {
  /** Commands connection (shared is fine). */
  connection: Redis;
  /** Connection for the BullMQ Worker (it duplicates a blocking one from it). Omit to schedule without consuming. */
  workerConnection?: Redis;
  prefix: string;
  concurrency: number;
  logger: Logger;
  /** `retry`: the one-off early retry after a transient failure (see retryLater). */
  onTick(id: string, jobId: string | undefined, retry: boolean): Promise<void>;
}

export class WatchScheduler {
  readonly queue: Queue<PollJobData>;
  readonly worker: Worker<PollJobData> | undefined;
  private readonly logger: Logger;
  private readonly connection: Redis;

  constructor(o: SchedulerOptions) {
    this.logger = o.logger;
    this.connection = o.connection;
    this.queue = new Queue<PollJobData>(WATCH_QUEUE_NAME, { connection: o.connection, prefix: o.prefix });
    this.queue.on('error', (e) => this.logger.warn({ err: describeError(e) }, 'watch queue error'));
    if (o.workerConnection) {
      this.worker = new Worker<PollJobData>(WATCH_QUEUE_NAME, async (job: Job<PollJobData>) => o.onTick(job.data.id, job.id, job.name === 'retry'), {
        connection: o.workerConnection,
        prefix: o.prefix,
        concurrency: o.concurrency,
      });
      this.worker.on('error', (e) => this.logger.warn({ err: describeError(e) }, 'watch worker error'));
      this.worker.on('failed', (job, e) => this.logger.warn({ watch: job?.data.id, err: describeError(e) }, 'scheduled poll failed'));
    }
  }

  /** Upserts a scheduler per watch, removes those of watches no longer defined. */
  async sync(watches: readonly ResolvedWatch[]): Promise<void> {
    const wanted = new Set(watches.map((w) => schedulerId(w.id)));
    for (const w of watches) {
      await this.queue.upsertJobScheduler(
        schedulerId(w.id),
        { pattern: w.config.schedule },
        { name: 'poll', data: { id: w.id }, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
      );
    }
    for (const s of await this.queue.getJobSchedulers(0, -1)) {
      if (watchIdOfScheduler(s.key) !== undefined && !wanted.has(s.key)) {
        await this.queue.removeJobScheduler(s.key);
        this.logger.info({ watch: watchIdOfScheduler(s.key) }, 'watch removed: its schedule is gone');
      }
    }
  }

  /**
   * One early poll after a transient failure, at most one pending per watch
   * (fixed job id), unless the schedule comes sooner anyway.
   */
  async retryLater(w: ResolvedWatch, delayMs: number): Promise<boolean> {
    try {
      const next = nextCronRun(w.config.schedule).getTime();
      if (next - Date.now() <= delayMs) return false;
    } catch {
      /* validated at load */
    }
    await this.queue.add('retry', { id: w.id }, { jobId: `retry-${w.id}`, delay: delayMs, removeOnComplete: true, removeOnFail: true });
    return true;
  }

  async cancelRetry(watchId: string): Promise<void> {
    await this.queue.remove(`retry-${watchId}`).catch(() => 0);
  }

  async schedules(): Promise<Map<string, { pattern?: string | undefined; next?: number | undefined }>> {
    const out = new Map<string, { pattern?: string | undefined; next?: number | undefined }>();
    for (const s of await this.queue.getJobSchedulers(0, -1)) {
      const id = watchIdOfScheduler(s.key);
      if (id !== undefined) out.set(id, { pattern: s.pattern, next: s.next });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await closeSharedQueue(this.queue, this.connection);
  }
}

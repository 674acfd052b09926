/**
 * Scheduled upkeep of the mirror: garbage collection (`gc.schedule`, while
 * `gc.enabled`) and drift refresh (`refresh.schedule`; "" = off). As with
 * the watch polls (scheduler.ts), each is a BullMQ job scheduler, here on
 * the queue `maintenance` under queue.prefix: one job per tick whatever the
 * number of replicas, and exactly one worker takes it. Every run, scheduled
 * or asked for (`runNow`), also holds a Redis lock per task (lock.ts, the
 * watches' lock), so a manual run never overlaps a scheduled one anywhere.
 * Schedulers follow the config on every `sync()` (hot reload).
 */
import { EventEmitter } from 'node:events';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FerryConfig } from '../config/index.js';
import { describeError } from '../errors.js';
import { runGc, type GcEngine, type GcReport } from '../gc/index.js';
import type { InUseStore } from '../in-use/index.js';
import type { NotifySink } from '../notify/index.js';
import { closeSharedQueue, type ImageStore, type Producer } from '../queue/index.js';
import { runRefresh, type RefreshEngine, type RefreshReport } from '../refresh/index.js';
import { WatchLocks } from './lock.js';

export type MaintenanceTask = 'gc' | 'refresh';

/** Name of the BullMQ queue holding the `gc` and `refresh` job schedulers. */
export const MAINTENANCE_QUEUE_NAME = 'maintenance';

const TASKS: readonly MaintenanceTask[] = ['gc', 'refresh'];

export interface MaintenanceDeps {
  config(): FerryConfig;
  /** Commands connection (queue, locks, reports). */
  redis: Redis;
  /** Own connection for the BullMQ Worker; omit to schedule without consuming ticks. */
  workerConnection?: Redis | undefined;
  store: ImageStore;
  producer: Pick<Producer, 'enqueueNow'>;
  /** The registry engine: HEADs upstream (refresh), manifest reads and deletes in the mirror (GC). */
  engine: GcEngine & RefreshEngine;
  /** The in-use index when this process watches pods; without it GC refuses and refresh needs `inUseOnly: false`. */
  inUse?: InUseStore | undefined;
  logger: Logger;
  mirrorRefOf(ref: string): string;
  /** Where refresh reports a drifted tag (`notify:` receivers); omit to notify nothing. */
  notifier?: NotifySink | undefined;
  /** @defaultValue Date.now (tests move a clock) */
  now?: () => number;
  /** @defaultValue 5 min, renewed while a run holds it */
  lockTtlMs?: number;
}

export interface Maintenance {
  on(event: 'gc', listener: (report: GcReport) => void): this;
  on(event: 'refresh', listener: (report: RefreshReport) => void): this;
}

export class Maintenance extends EventEmitter {
  readonly queue: Queue;
  readonly worker: Worker | undefined;
  private readonly locks: WatchLocks;
  private readonly logger: Logger;
  private readonly closing = new AbortController();
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly o: MaintenanceDeps) {
    super();
    const prefix = o.config().queue.prefix;
    this.logger = o.logger.child({ role: 'watch', part: 'maintenance' });
    // `<p>:gc:lock`, `<p>:refresh:lock`: beside each task's own keys, away from the BullMQ queue's `<p>:maintenance:*`.
    this.locks = new WatchLocks(o.redis, { lock: (t) => `${prefix}:${t}:lock`, again: (t) => `${prefix}:${t}:lock-again` }, o.lockTtlMs ?? 5 * 60_000);
    this.queue = new Queue(MAINTENANCE_QUEUE_NAME, { connection: o.redis, prefix });
    this.queue.on('error', (e) => this.logger.warn({ err: describeError(e) }, 'maintenance queue error'));
    if (o.workerConnection) {
      this.worker = new Worker(MAINTENANCE_QUEUE_NAME, async (job: Job) => this.onTick(job), { connection: o.workerConnection, prefix, concurrency: TASKS.length });
      this.worker.on('error', (e) => this.logger.warn({ err: describeError(e) }, 'maintenance worker error'));
      this.worker.on('failed', (job, e) => this.logger.warn({ task: job?.name, err: describeError(e) }, 'scheduled maintenance failed'));
    }
  }

  async start(): Promise<void> {
    await this.sync();
  }

  /** One scheduler per enabled task with the configured pattern; the others removed. Call on every config change. */
  async sync(): Promise<void> {
    if (this.closed) return;
    const c = this.o.config();
    const patterns: Record<MaintenanceTask, string | undefined> = {
      gc: c.gc.enabled ? c.gc.schedule : undefined,
      refresh: c.refresh.schedule.trim() ? c.refresh.schedule : undefined,
    };
    for (const task of TASKS) {
      const pattern = patterns[task];
      if (pattern) {
        await this.queue.upsertJobScheduler(task, { pattern }, { name: task, data: {}, opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } } });
      } else if (await this.queue.removeJobScheduler(task)) {
        this.logger.info({ task }, `${task} is off: its schedule is removed`);
      }
    }
  }

  /** The schedulers as BullMQ holds them (pattern, next tick in ms). */
  async schedules(): Promise<Map<MaintenanceTask, { pattern?: string | undefined; next?: number | undefined }>> {
    const out = new Map<MaintenanceTask, { pattern?: string | undefined; next?: number | undefined }>();
    for (const s of await this.queue.getJobSchedulers(0, -1)) {
      if ((TASKS as readonly string[]).includes(s.key)) out.set(s.key as MaintenanceTask, { pattern: s.pattern, next: s.next });
    }
    return out;
  }

  /**
   * Runs a task now (API, tests), holding its lock. Resolves with the
   * report, or undefined when a run of it is in progress (here or in another
   * replica) or the process is closing.
   */
  runNow(task: 'gc'): Promise<GcReport | undefined>;
  runNow(task: 'refresh'): Promise<RefreshReport | undefined>;
  runNow(task: MaintenanceTask): Promise<GcReport | RefreshReport | undefined>;
  runNow(task: MaintenanceTask): Promise<GcReport | RefreshReport | undefined> {
    return this.run(task);
  }

  private async onTick(job: Job): Promise<void> {
    const task = job.name as MaintenanceTask;
    if (!TASKS.includes(task)) return;
    await this.run(task);
  }

  private async run(task: MaintenanceTask): Promise<GcReport | RefreshReport | undefined> {
    if (this.closed) return undefined;
    const work = this.locks.run(task, 'poll', 'skip', () => this.runTask(task));
    this.pending.add(work);
    try {
      const out = await work;
      if (!out.ran) this.logger.info({ task }, `${task}: another run is in progress; this one is skipped`);
      return out.ran ? out.value : undefined;
    } finally {
      this.pending.delete(work);
    }
  }

  private async runTask(task: MaintenanceTask): Promise<GcReport | RefreshReport> {
    const o = this.o;
    const common = { config: o.config, redis: o.redis, store: o.store, logger: this.logger, signal: this.closing.signal, inUse: o.inUse, ...(o.now ? { now: o.now } : {}) };
    if (task === 'gc') {
      const report = await runGc({ ...common, engine: o.engine });
      this.emit('gc', report);
      return report;
    }
    const report = await runRefresh({ ...common, engine: o.engine, producer: o.producer, mirrorRefOf: o.mirrorRefOf, ...(o.notifier ? { notifier: o.notifier } : {}) });
    this.emit('refresh', report);
    return report;
  }

  /** Stops taking ticks; a run in progress gets `graceMs`, then its registry requests are aborted (what is left is reported). */
  async close(graceMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker?.close().catch((e) => this.logger.warn({ err: describeError(e) }, 'maintenance worker close failed'));
    const running = Promise.allSettled([...this.pending]);
    const timer = setTimeout(() => this.closing.abort(), graceMs);
    timer.unref();
    await running;
    clearTimeout(timer);
    this.closing.abort();
    await worker;
    await closeSharedQueue(this.queue, this.o.redis);
  }
}

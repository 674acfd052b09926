import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { backoffDelay } from '../async/index.js';
import { describeError } from '../errors.js';
import { dedupeId, QUEUE_NAME, verifyDedupeId } from './keys.js';
import type { ImageSource, ImageState } from './record.js';
import type { ImageStore } from './store.js';
import { Verifications, type Requester } from './verifications.js';

/** Job names on the queue: a copy, or a check of pending namespaces' credentials against a mirrored image. */
export const COPY_JOB = 'copy';
export const VERIFY_JOB = 'verify';

export interface CopyJobData {
  ref: string;
  mirrorRef: string;
  /** `copy` jobs: the pod whose pull secrets the copy may use (`credentialsFromPods`). */
  requester?: Requester;
}

export interface EnqueueRequest {
  ref: string;
  mirrorRef: string;
  source: ImageSource;
  force?: boolean;
  /** The asking pod's namespace and pull-secret names (admission, when `credentialsFromPods` is on for the host). */
  requester?: Requester;
  /**
   * Not a copy: `requester` waits for its credentials to be checked against
   * the mirrored image (and the image's access is found out if unknown).
   * Deduplicated per image and namespace, not per image.
   */
  verify?: boolean;
}

export interface ProducerOptions {
  store: ImageStore;
  queue: Queue<CopyJobData>;
  maxAttempts: () => number;
  /** Max refs held while Redis is unreachable; the oldest are dropped past it (and counted). */
  bufferLimit: number;
  logger?: { warn(o: object, m?: string): void; debug?(o: object, m?: string): void };
  onBufferChange?: (depth: number) => void;
  onDropped?: (n: number) => void;
}

/** Options every copy job gets; the worker's backoff strategy is named `ferry`. */
export function jobOptions(ref: string, maxAttempts: number) {
  return {
    deduplication: { id: dedupeId(ref) },
    attempts: maxAttempts,
    backoff: { type: 'ferry' },
    removeOnComplete: { count: 1000, age: 24 * 3600 },
    removeOnFail: { count: 1000, age: 7 * 24 * 3600 },
  };
}

/**
 * Options of a `verify` job: one waiting per image and namespace (what it
 * checks waits in Redis, see Verifications: a job checks every namespace
 * waiting for its image), no retry (the next admission asks again), and
 * gone once done so the copy jobs' history keeps its room.
 */
export function verifyJobOptions(ref: string, namespace = '') {
  return { deduplication: { id: verifyDedupeId(ref, namespace) }, attempts: 1, removeOnComplete: true, removeOnFail: true };
}

/** Where a request sits in the producer's buffer: one per image for copies, one per image and namespace for checks. */
function bufferKey(req: EnqueueRequest): string {
  return req.verify ? `verify\n${req.ref}\n${req.requester?.namespace ?? ''}` : req.ref;
}

export function createQueue(connection: Redis, prefix: string): Queue<CopyJobData> {
  return new Queue<CopyJobData>(QUEUE_NAME, { connection, prefix });
}

/**
 * Closes a BullMQ Queue that runs on a shared connection, unless that
 * connection is not ready. BullMQ's close() drops its internal error
 * listeners; if the connection never became ready, the owner's later
 * disconnect makes BullMQ re-emit the last connect error with nobody
 * listening: an uncaught ECONNREFUSED. Left open, the queue forwards it to
 * its own 'error' listener, and the owner's disconnect releases everything.
 */
export async function closeSharedQueue(queue: Queue, connection: Redis): Promise<void> {
  if (connection.status !== 'ready') return;
  await queue.close();
}

/**
 * The admission path calls `enqueue()`, which only touches memory: refs are
 * buffered (deduplicated) and flushed to Redis in the background. When Redis
 * is down the buffer holds them and the webhook keeps answering.
 */
export class Producer {
  private readonly buffer = new Map<string, EnqueueRequest>();
  private flushing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private readonly verifications: Verifications;

  constructor(private readonly o: ProducerOptions) {
    this.verifications = new Verifications(o.store);
  }

  get depth(): number {
    return this.buffer.size;
  }

  enqueue(req: EnqueueRequest): void {
    if (this.closed) return;
    const key = bufferKey(req);
    const existing = this.buffer.get(key);
    if (existing && !req.verify && req.requester && existing.requester && existing.requester.namespace !== req.requester.namespace) {
      // Two namespaces asked for one copy: the copy uses the first one's secret, the second waits to be verified.
      this.enqueue({ ...req, verify: true });
    }
    const merged = existing ? { ...existing, force: existing.force || req.force, requester: existing.requester ?? req.requester } : req;
    // An unchanged request keeps its entry: one being flushed right now is then not sent a second time.
    if (!existing || merged.force !== existing.force || merged.requester !== existing.requester) this.buffer.set(key, merged);
    if (this.buffer.size > this.o.bufferLimit) {
      const oldest = this.buffer.keys().next().value as string;
      this.buffer.delete(oldest);
      this.o.onDropped?.(1);
      this.o.logger?.warn({ ref: oldest, limit: this.o.bufferLimit }, 'enqueue buffer full: dropped the oldest pending image (it will be enqueued again on its next admission)');
    }
    this.o.onBufferChange?.(this.buffer.size);
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.flushing || this.retryTimer) return;
    if (delayMs === 0) {
      this.flushing = this.flushNow().finally(() => (this.flushing = undefined));
      return;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule(0);
    }, delayMs);
    this.retryTimer.unref();
  }

  /** Resolves when everything buffered so far reached Redis (or a flush attempt failed). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.buffer.size && !this.retryTimer) {
      this.schedule(0);
      while (this.flushing) await this.flushing;
    }
  }

  private async flushNow(): Promise<void> {
    while (this.buffer.size && !this.closed) {
      const batch = [...this.buffer.entries()].slice(0, 200);
      try {
        await this.send(batch);
        for (const [key, req] of batch) if (this.buffer.get(key) === req) this.buffer.delete(key);
        this.failures = 0;
        this.o.onBufferChange?.(this.buffer.size);
      } catch (e) {
        this.failures++;
        const delay = backoffDelay(this.failures + 1, { initialMs: 250, maxMs: 10_000 });
        this.o.logger?.warn({ err: describeError(e), buffered: this.buffer.size, retryInMs: delay }, 'cannot reach Redis to enqueue; keeping images buffered');
        this.flushing = undefined;
        this.schedule(delay);
        return;
      }
    }
  }

  private async send(entries: [string, EnqueueRequest][]): Promise<void> {
    const batch = entries.map(([, req]) => req);
    const copies = batch.filter((req) => !req.verify);
    const maxAttempts = this.o.maxAttempts();
    const results = await Promise.all(
      copies.map((req) =>
        this.o.store.enqueue(req.ref, { mirrorRef: req.mirrorRef, maxAttempts, source: req.source, force: req.force ?? false }),
      ),
    );
    const adds = copies.filter((_req, i) => results[i]!.created || results[i]!.state === 'queued');
    // A pod whose copy request met an existing record (another namespace asked first) waits to be verified instead.
    const handedOver = copies.filter((req, i) => req.requester && !results[i]!.created);
    const checks = [...batch.filter((req) => req.verify), ...handedOver];
    await Promise.all([...adds.map((req) => this.addJob(req, maxAttempts)), ...checks.map((req) => this.requestVerification(req))]);
  }

  private async addJob(req: EnqueueRequest, maxAttempts: number): Promise<void> {
    const data: CopyJobData = { ref: req.ref, mirrorRef: req.mirrorRef, ...(req.requester ? { requester: req.requester } : {}) };
    await this.o.queue.add(COPY_JOB, data, jobOptions(req.ref, maxAttempts));
  }

  /** Records who waits (if anyone brought secrets) and makes sure a `verify` job for the image is on its way. */
  private async requestVerification(req: EnqueueRequest): Promise<void> {
    if (req.requester) await this.verifications.add(req.ref, req.requester);
    await this.o.queue.add(VERIFY_JOB, { ref: req.ref, mirrorRef: req.mirrorRef }, verifyJobOptions(req.ref, req.requester?.namespace));
  }

  /**
   * Immediate (not buffered) enqueue for API callers that want an answer:
   * returns the state in force afterwards.
   */
  async enqueueNow(req: EnqueueRequest): Promise<{ state: ImageState; created: boolean }> {
    const maxAttempts = this.o.maxAttempts();
    const res = await this.o.store.enqueue(req.ref, { mirrorRef: req.mirrorRef, maxAttempts, source: req.source, force: req.force ?? false });
    if (res.created || res.state === 'queued') {
      if (req.force && (await this.removePendingJob(req.ref)) === 'active') {
        // A copy of the old content is running and holds the dedupe key: copy again once it ends
        // (the worker calls afterJobFinished), else the mirror would keep what that copy fetched.
        await this.o.store.redis.hset(this.o.store.k.again, req.ref, JSON.stringify({ mirrorRef: req.mirrorRef, source: req.source }));
        const jobId = await this.o.queue.getDeduplicationJobId(dedupeId(req.ref));
        const job = jobId ? await this.o.queue.getJob(jobId) : undefined;
        // It may have finished in between; then nobody else will take the mark.
        if (!job || (await job.getState()) !== 'active') await this.afterJobFinished(req.ref);
        return res;
      }
      await this.addJob(req, maxAttempts);
    }
    return res;
  }

  /**
   * Called by workers when a copy job has finished for good (completed, or
   * failed with no retry left): re-enqueues the image if it was asked for
   * again meanwhile. HDEL makes exactly one caller take the mark.
   */
  async afterJobFinished(ref: string): Promise<boolean> {
    const [[, raw], [, taken]] = (await this.o.store.redis.multi().hget(this.o.store.k.again, ref).hdel(this.o.store.k.again, ref).exec()) as [
      [unknown, string | null],
      [unknown, number],
    ];
    if (taken !== 1 || !raw) return false;
    const { mirrorRef, source } = JSON.parse(raw) as { mirrorRef: string; source: ImageSource };
    await this.enqueueNow({ ref, mirrorRef, source, force: true });
    return true;
  }

  /**
   * Drops the waiting/delayed job of `ref`, if any, and says what state the
   * job holding its dedupe key was in (an active one is left to finish).
   */
  async removePendingJob(ref: string): Promise<string | undefined> {
    const jobId = await this.o.queue.getDeduplicationJobId(dedupeId(ref));
    if (!jobId) return undefined;
    const job = await this.o.queue.getJob(jobId);
    const state = job ? await job.getState() : undefined;
    if (job && (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children')) {
      await job.remove().catch(() => {});
    }
    if (!job || state === 'completed' || state === 'failed' || state === 'waiting' || state === 'delayed' || state === 'unknown') {
      await this.o.queue.removeDeduplicationKey(dedupeId(ref)).catch(() => 0);
    }
    return state;
  }

  /**
   * Flushes what is buffered, but gives up after `timeoutMs` (Redis may be
   * the thing that is down): those images are enqueued again on their next
   * admission, and the count is logged.
   */
  async close(timeoutMs = 5000): Promise<void> {
    const timer = new AbortController();
    const gaveUp = await Promise.race([
      this.flush().then(
        () => false,
        () => false,
      ),
      sleep(timeoutMs, true, { signal: timer.signal }),
    ]);
    timer.abort(); // the sleep's rejection is Promise.race's, already settled: nobody sees it
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (gaveUp && this.buffer.size) {
      this.o.logger?.warn({ buffered: this.buffer.size }, 'shutting down with images still buffered (Redis unreachable); they are enqueued again on their next admission');
    }
  }
}

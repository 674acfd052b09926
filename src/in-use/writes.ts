/**
 * The pod tracker's write path into the in-use index. Events for one pod
 * coalesce until the next macrotask (an initial list of 50,000 pods becomes
 * pipelines of 1,000 Lua calls, a single update one call), and the pod's
 * CURRENT images are written, never a queued copy, so a retried write can
 * never overwrite a newer one. Writes leave in order on one connection, so
 * two writes of one pod land in the order they were made.
 */
import { performance } from 'node:perf_hooks';
import type { InUseStore, PodWrite } from './store.js';
import type { PodImage } from './types.js';

export interface IndexWriterOptions {
  store: InUseStore;
  /** The pod's images now (empty once it is gone). */
  imagesOf: (podKey: string) => readonly PodImage[];
  /** A write acknowledged, with the seconds since its event arrived. */
  onIndexed: (podKey: string, seconds: number) => void;
  /** Some writes failed; they are retried by `retryFailed()`. */
  onFailed: (count: number, err: Error) => void;
}

export class IndexWriter {
  /** podKey -> when its oldest unwritten event arrived (performance.now()). */
  private pending = new Map<string, number>();
  /** Pods whose last write failed. */
  private readonly failed = new Set<string>();
  private flushQueued = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly opts: IndexWriterOptions) {}

  get failedCount(): number {
    return this.failed.size;
  }

  schedule(podKey: string, receivedAt: number): void {
    if (!this.pending.has(podKey)) this.pending.set(podKey, receivedAt);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => void this.flush());
  }

  /** Sends what is pending; resolves once it (and every earlier write) is acknowledged or failed. */
  flush(): Promise<void> {
    this.flushQueued = false;
    if (this.pending.size === 0) return this.inFlight;
    const batch = [...this.pending];
    this.pending = new Map();
    const writes: PodWrite[] = batch.map(([podKey]) => {
      const slash = podKey.indexOf('/');
      return { namespace: podKey.slice(0, slash), pod: podKey.slice(slash + 1), images: this.opts.imagesOf(podKey) };
    });
    // setPods sends all its commands now, so this flush's writes land before the next one's.
    const done = this.opts.store.setPods(writes).then((errors) => this.settle(batch, errors));
    this.inFlight = Promise.all([this.inFlight, done]).then(
      () => {},
      () => {},
    );
    return this.inFlight;
  }

  /** Writes again every pod whose last write failed. */
  retryFailed(): Promise<void> {
    const now = performance.now();
    for (const podKey of this.failed) if (!this.pending.has(podKey)) this.pending.set(podKey, now);
    this.failed.clear();
    return this.flush();
  }

  /** Resolves once everything scheduled so far is acknowledged or failed. */
  async drain(): Promise<void> {
    await this.flush();
  }

  private settle(batch: [string, number][], errors: (Error | null)[]): void {
    const now = performance.now();
    let failures = 0;
    let firstError: Error | undefined;
    batch.forEach(([podKey, receivedAt], n) => {
      const err = errors[n];
      if (err) {
        failures++;
        firstError ??= err;
        if (!this.pending.has(podKey)) this.failed.add(podKey);
        return;
      }
      this.failed.delete(podKey);
      try {
        this.opts.onIndexed(podKey, (now - receivedAt) / 1000);
      } catch {
        // a measurement hook's failure is not the write's
      }
    });
    if (firstError) this.opts.onFailed(failures, firstError);
  }
}

/**
 * Throttled progress writes: at most one write per `intervalMs` per copy (the
 * first tick is written at once), never two writes in flight, and `flush()`
 * waits for the write in flight so a late tick cannot land after the final
 * state (it would make a `mirrored` record show bytesDone < bytesTotal).
 */
import type { CopyProgress } from './engine.js';

export interface ProgressWriter {
  onProgress(p: CopyProgress): void;
  /** Stops further writes and waits for the one in flight. */
  flush(): Promise<void>;
}

export function createProgressWriter(
  write: (bytesDone: number, bytesTotal: number) => Promise<void>,
  intervalMs = 250,
  now: () => number = () => performance.now(),
  onError: (e: unknown) => void = () => {},
): ProgressWriter {
  let last = -Infinity;
  let inflight: Promise<void> | undefined;
  let stopped = false;
  return {
    onProgress(p) {
      if (stopped || inflight) return;
      const t = now();
      if (t - last < intervalMs) return;
      last = t;
      inflight = write(p.bytesDone, p.bytesTotal)
        .catch(onError)
        .finally(() => (inflight = undefined));
    },
    async flush() {
      stopped = true;
      if (inflight) await inflight;
    },
  };
}

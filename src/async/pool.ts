/**
 * Bounded concurrency: runs `fn` over `items`, `n` at a time. On the first
 * failure the signal handed to the tasks is aborted (siblings stop early),
 * no new item starts, every started task settles, and the first error is
 * thrown. An aborted `signal` stops new work and throws its reason.
 */
import { linkedSignal } from './linked-signal.js';

export async function pool<T>(items: readonly T[], n: number, signal: AbortSignal | undefined, fn: (item: T, signal: AbortSignal) => Promise<void>): Promise<void> {
  // every request of every task listens to it (linkedSignal allows any number): n x (deadline, limiter, shared waits)
  const link = linkedSignal(signal);
  const tasks = link.signal;
  let next = 0;
  let first: { e: unknown } | undefined;
  const worker = async () => {
    while (!first && next < items.length && !tasks.aborted) {
      const item = items[next++]!;
      try {
        await fn(item, tasks);
      } catch (e) {
        if (!first) {
          first = { e };
          link.abort(e);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  } finally {
    link.dispose();
  }
  if (first) throw first.e;
  if (signal?.aborted) throw signal.reason;
}

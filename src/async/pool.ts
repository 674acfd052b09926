/**
 * Bounded concurrency: runs `fn` over `items`, `n` at a time. On the first
 * failure the signal handed to the tasks is aborted (siblings stop early),
 * no new item starts, every started task settles, and the first error is
 * thrown. An aborted `signal` stops new work and throws its reason.
 */
export async function pool<T>(items: readonly T[], n: number, signal: AbortSignal | undefined, fn: (item: T, signal: AbortSignal) => Promise<void>): Promise<void> {
  const failed = new AbortController();
  const tasks = signal ? AbortSignal.any([signal, failed.signal]) : failed.signal;
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
          failed.abort(e);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  if (first) throw first.e;
  if (signal?.aborted) throw signal.reason;
}

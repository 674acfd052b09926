import { classifyThrown, type ErrorContext } from '../errors.js';

/**
 * Waits for shared work `p` with the caller's own `signal`: when it aborts,
 * only this wait is abandoned (rejecting with the reason, classified for
 * `ctx`); the work goes on for every other caller waiting on it (a ping, a
 * token request, a credential helper, a blob transfer).
 */
export function abandonable<T>(p: Promise<T>, signal: AbortSignal | undefined, ctx: ErrorContext): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(classifyThrown(signal.reason, ctx, true));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(classifyThrown(signal.reason, ctx, true));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

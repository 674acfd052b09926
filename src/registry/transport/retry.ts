/**
 * In-process retries of one registry operation (a request, a blob
 * transfer): transient failures are tried again up to `retries` more times,
 * after the registry's Retry-After when it gave one (longer than
 * `maxRetryAfterMs`: thrown, for the caller's own backoff), else after the
 * `spread` backoff from `backoffMs` (doubling, no cap: `retries` bounds it).
 * Never after a cancellation.
 *
 * The host's gate (host-gates.ts) pauses every new request to that host
 * until the same Retry-After, so a retry that waited it out finds the gate
 * open: the two waits end together and never add up. A gate hold longer than
 * `maxRetryAfterMs` fails the request unsent, with `retryAfterMs`, and is not
 * retried here either (same rule).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../../async/index.js';
import type { FerryError } from '../../errors.js';
import { REGISTRY_ERROR_CODES } from '../errors.js';

export interface RetryPolicy {
  /** Extra attempts after the first. */
  readonly retries: number;
  readonly maxRetryAfterMs: number;
  /** Wait before the first retry (then doubling, jittered by ±25%). */
  readonly backoffMs: number;
}

/** Wait before trying again after attempt `attempt` (0-based) failed with `fe`, or undefined: give up. */
export function retryWait(fe: FerryError, attempt: number, policy: RetryPolicy, signal: AbortSignal | undefined): number | undefined {
  if (!fe.transient || attempt >= policy.retries || signal?.aborted || fe.code === REGISTRY_ERROR_CODES.ABORTED) return undefined;
  const ra = fe.details?.retryAfterMs as number | undefined;
  if (ra !== undefined && ra > policy.maxRetryAfterMs) return undefined;
  return ra ?? backoffDelay(attempt + 1, { initialMs: policy.backoffMs, maxMs: Infinity, jitter: 'spread' });
}

/**
 * Runs `attempt` until it succeeds or `retryWait` gives up (then its last
 * error is thrown). What `attempt` throws must be a FerryError. `onRetry`
 * is told before each wait (for the log).
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T>,
  onRetry: (fe: FerryError, attempt: number, waitMs: number) => void,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      const fe = e as FerryError;
      const wait = retryWait(fe, n, policy, signal);
      if (wait === undefined) throw fe;
      onRetry(fe, n + 1, wait);
      await pause(wait, signal);
    }
  }
}

/** Node's sleep, rejecting as an abort always has here: with the signal's own reason (a FerryError from the engine's close), not an AbortError wrapping it. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch (e) {
    throw signal?.aborted ? signal.reason : e;
  }
}

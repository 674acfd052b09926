/**
 * Retry delay for a failed copy attempt (pure; SPEC "Image states": initial
 * delay doubling, capped at 10 minutes, jittered).
 *
 *   base  = min(initialMs * 2^(attempt-1), cap)      cap = min(maxMs, 10 min)
 *   delay = base/2 + rand() * base/2                 ("equal jitter": in [base/2, base])
 *   429/503 with Retry-After: delay = max(delay, retryAfterMs), still <= 10 min
 *
 * Equal jitter keeps a guaranteed half of the exponential wait (so a dead
 * upstream is not hammered) while spreading a thundering herd of jobs that
 * failed together over the other half. The result never exceeds the cap.
 * `attempt` is the 1-based number of the attempt that just failed (what
 * BullMQ passes to a backoff strategy: attemptsMade + 1). The doubling and
 * the jitter are src/async's `backoffDelay`; this adds the 10-minute cap and
 * Retry-After.
 */
import { backoffDelay } from '../async/index.js';

export const BACKOFF_HARD_CAP_MS = 10 * 60 * 1000;

export interface BackoffSettings {
  initialMs: number;
  maxMs: number;
}

/** `details.retryAfterMs` of a FerryError (registry 429 / Retry-After), if any. */
export function retryAfterOf(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const details = (err as { details?: unknown }).details;
  if (!details || typeof details !== 'object') return undefined;
  const v = (details as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

export function nextDelay(attempt: number, backoff: BackoffSettings, err: unknown, rand: () => number = Math.random): number {
  let delay = backoffDelay(attempt, { initialMs: backoff.initialMs, maxMs: Math.min(backoff.maxMs, BACKOFF_HARD_CAP_MS), jitter: 'equal' }, rand);
  const retryAfter = retryAfterOf(err);
  if (retryAfter !== undefined && retryAfter > delay) delay = Math.round(Math.min(retryAfter, BACKOFF_HARD_CAP_MS));
  return delay;
}

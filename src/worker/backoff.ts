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
 * BullMQ passes to a backoff strategy: attemptsMade + 1).
 */
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
  const cap = Math.max(0, Math.min(backoff.maxMs, BACKOFF_HARD_CAP_MS));
  const initial = Math.max(0, backoff.initialMs);
  const n = Math.max(1, Math.floor(attempt));
  // 2^(n-1) overflows to Infinity for huge n; min() then yields the cap.
  const base = Math.min(initial * 2 ** (n - 1), cap);
  const r = Math.min(1, Math.max(0, rand()));
  let delay = Math.round(base / 2 + r * (base / 2));
  const retryAfter = retryAfterOf(err);
  if (retryAfter !== undefined && retryAfter > delay) delay = Math.round(Math.min(retryAfter, BACKOFF_HARD_CAP_MS));
  return delay;
}

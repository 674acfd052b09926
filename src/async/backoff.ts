/**
 * Exponential backoff, the one formula ferry uses wherever it waits before
 * trying again (copy jobs, registry requests, watch polls, the enqueue
 * buffer, import retries). Pure: the caller passes `rand` in tests.
 *
 *   base = min(initialMs * 2^(attempt-1), maxMs)     attempt: 1-based
 *   jitter 'none'    delay = base
 *   jitter 'equal'   delay in [base/2, base]          (keeps half the wait, spreads the rest)
 *   jitter 'spread'  delay in [0.75 base, 1.25 base]  (may pass maxMs by a quarter)
 */
export type Jitter = 'none' | 'equal' | 'spread';

export interface Backoff {
  initialMs: number;
  /** Cap on the exponential base (Infinity: none). */
  maxMs: number;
  /** @defaultValue 'none' */
  jitter?: Jitter;
}

export function backoffDelay(attempt: number, b: Backoff, rand: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(Number.isFinite(attempt) ? attempt : 1));
  // 2^(n-1) overflows to Infinity for huge n; min() then yields the cap.
  const base = Math.min(Math.max(0, b.initialMs) * 2 ** (n - 1), Math.max(0, b.maxMs));
  const r = Math.min(1, Math.max(0, rand()));
  switch (b.jitter ?? 'none') {
    case 'equal':
      return Math.round(base / 2 + r * (base / 2));
    case 'spread':
      return Math.round(base * (0.75 + r * 0.5));
    default:
      return Math.round(base);
  }
}

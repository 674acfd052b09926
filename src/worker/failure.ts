/**
 * Failed attempt -> next image state (pure).
 *
 * - permanent error (FerryError with transient === false): `error` at once;
 * - the attempt that failed was the last one allowed (attempt >= maxAttempts): `error`;
 * - otherwise `retrying`, after `nextDelay(...)`.
 * Anything that is not a FerryError (a bug, an unexpected throw) is treated as
 * transient: it is retried within maxAttempts, then lands in `error`.
 */
import { describeError, isFerryError } from '../errors.js';
import { nextDelay, type BackoffSettings } from './backoff.js';

export type FailureDecision =
  | { state: 'retrying'; delayMs: number; nextAttemptAt: string; lastError: string }
  | { state: 'error'; permanent: boolean; lastError: string };

export interface FailureInput {
  /** 1-based number of the attempt that failed. */
  attempt: number;
  maxAttempts: number;
  err: unknown;
  backoff: BackoffSettings;
  now: number;
  rand?: () => number;
}

export function isPermanent(err: unknown): boolean {
  return isFerryError(err) && err.transient === false;
}

export function decideFailure(i: FailureInput): FailureDecision {
  const lastError = describeError(i.err);
  if (isPermanent(i.err)) return { state: 'error', permanent: true, lastError };
  if (i.attempt >= i.maxAttempts) return { state: 'error', permanent: false, lastError };
  const delayMs = nextDelay(i.attempt, i.backoff, i.err, i.rand);
  return { state: 'retrying', delayMs, nextAttemptAt: new Date(i.now + delayMs).toISOString(), lastError };
}

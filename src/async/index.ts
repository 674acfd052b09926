/**
 * Waiting and pacing, one way each: exponential backoff and bounded
 * concurrency. Sleeps are `node:timers/promises` and linked signals
 * `AbortSignal.any`, straight from Node.
 */
export { backoffDelay, type Backoff, type Jitter } from './backoff.js';
export { pool } from './pool.js';

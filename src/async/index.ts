/**
 * Waiting and pacing, one way each: exponential backoff, bounded concurrency,
 * and linked signals that let go of their sources (Node 20's `AbortSignal.any`
 * does not: see linked-signal.ts). Sleeps are `node:timers/promises`.
 */
export { backoffDelay, type Backoff, type Jitter } from './backoff.js';
export { pool } from './pool.js';
export { linkedSignal, type LinkedSignal } from './linked-signal.js';

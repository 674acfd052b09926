/** `ferry worker`: the BullMQ consumer pool that copies images upstream -> mirror. Public face only; the role starts in role.ts. */
export { createWorkerPool, workerOptsFor, type WorkerPool, type WorkerPoolOptions } from './pool.js';
export { createProcessor, backoffStrategy, type CopyJobResult } from './processor.js';
export { nextDelay, BACKOFF_HARD_CAP_MS, type BackoffSettings } from './backoff.js';
export { decideFailure, isPermanent, type FailureDecision } from './failure.js';
export { diffConfig, requeueReason, hasRelevantChange } from './requeue-rule.js';
export type { CopyEngine, CopyRequest, CopyResult, CopyProgress } from './engine.js';
export { startWorker } from './role.js';

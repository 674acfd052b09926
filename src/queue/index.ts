export * from './record.js';
export { keys, dedupeId, verifyDedupeId, QUEUE_NAME } from './keys.js';
export { blockPatch, recordMirrorRef, retryRefusal, unblockPatch, unblockRefusal, type NewRecordBasics, type RetryRefusal, type UnblockRefusal } from './record-actions.js';
export { ImageStore, decodeEvent, type EnqueueRecordOptions } from './store.js';
export { StateView, type ImageView } from './state-view.js';
export { RecordFeed } from './record-feed.js';
export {
  COPY_JOB,
  Producer,
  VERIFY_JOB,
  closeSharedQueue,
  createQueue,
  jobOptions,
  verifyJobOptions,
  type CopyJobData,
  type EnqueueRequest,
  type ProducerOptions,
} from './producer.js';
export { Verifications, VERIFY_FAILED_TTL_MS, type Requester } from './verifications.js';
export { clusterOptions, connectRedis, describeRedisUrl, isClusterRedisUrl, parseClusterUrl, redisAnswers, redisOptions, redactRedisUrl, whenReady, type ClusterUrl } from './connection.js';

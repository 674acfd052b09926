/** Notifications out (`notify:`): CloudEvents 1.0 for tagMoved, drifted, mirrored, error, delivered through the queue (docs/notify.md). Public face only. */
export { buildCloudEvent, eventId, eventType, wants, CLOUDEVENTS_CONTENT_TYPE, NOTIFY_EVENTS, type CloudEvent, type NotifyData, type NotifyInput } from './event.js';
export { diffImageConfigs, representativeChild, type ConfigDiff } from './config-diff.js';
export { signBody, verifySignature, SIGNATURE_HEADER } from './signature.js';
export { classifyStatus, DELIVERY_TIMEOUT_MS, type Verdict } from './delivery.js';
export {
  Notifier,
  createNotifyQueue,
  notifyAttempts,
  notifyDelay,
  notifyJobOptions,
  receiverKey,
  DEDUP_WINDOW_MS,
  NOTIFY_QUEUE,
  NOTIFY_RETRY_WINDOW_MS,
  type NotifierOptions,
  type NotifyJobData,
  type NotifySink,
} from './queue.js';
export { startNotifyConsumer, type NotifyConsumer, type NotifyConsumerOptions, type NotifyResult } from './consumer.js';
export { withConfigDiff, type ConfigEngine } from './config-fetch.js';
export { notifyWatchChanges, tagMovedInput, type PollEmitter, type PolledLike } from './watch-changes.js';
export { NOTIFY_ERROR_TABLE, NOTIFY_ERROR_CODES } from './errors.js';

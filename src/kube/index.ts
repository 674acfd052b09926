/** Talking to the Kubernetes API (loaded only where a cluster is configured). Public face only. */
export { connectKube, hasCluster, type KubeClient, type KubeModule } from './client.js';
export { createEventRecorder, EventRecorder, EVENT_COMPONENT, EVENT_RECORDER_DEFAULTS, type EventRecorderLike, type EventRecorderOptions } from './events.js';
export { MAX_MESSAGE_BYTES, truncateMessage, type EventType, type InvolvedObject, type RecordedEvent } from './event-cache.js';
export { coreApiWithDeadline, kubeEventSink, type EventSink, type EventWrite } from './event-sink.js';
export { PullSecrets, parsePullSecret, type PullCredentials, type PullSecretLookup, type PullSecretsOptions } from './pull-secrets.js';
export { currentListWatch, describeApiError, statusCodeOf, withDeadline, type ListWatchHandlers } from './api-calls.js';

/** The in-use index: which pods run which image (SPEC "Cluster awareness"). Public face only. */
export * from './types.js';
export { InUseStore, type HeartbeatOptions, type PodWrite } from './store.js';
export { inUseKeys, type InUseKeys } from './keys.js';
export { podImages, digestOfImageId, type PodLike } from './pod-images.js';
export { startPodTracker, PodTracker, type PodChange, type PodTrackerOptions, type TrackedPod } from './tracker.js';

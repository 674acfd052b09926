/** `ferry watch`: scheduled upstream polling, re-mirroring, retention, hooks and the watch API (docs/watch.md). Public face only; the role starts in role.ts. */
export { Watcher, type PollReport, type Trigger, type WatcherDeps } from './watcher.js';
export { type WatchView } from './api.js';
export { type RetentionReport } from './retention-pass.js';
export { type WatchEngine } from './observe.js';
export { deriveWatchId, mergeWatches, resolveWatch, validateApiWatch, type ResolvedWatch, type ResourceWatch, type WatchResource } from './definition.js';
export { parseEnvelope, watchesForEvent, EVENTS_MEDIA_TYPE, type RegistryEvent } from './hooks.js';
export { watchRoutes } from './routes.js';
export { watchKeys, WATCH_QUEUE_NAME } from './keys.js';
export * from './strategy/index.js';
export { startWatch, type WatchRole } from './role.js';
export { checkImageWatchFiles, describeResourceCheck } from './image-watch-files.js';

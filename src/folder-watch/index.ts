/** A folder whose files are imported once written, again when changed, never twice for a rename (k3s image-folder semantics): `ferry import` and `ferry agent` both watch one. Public face only. */
export { FolderWatcher, DEFAULT_RETRY, type FileResult, type FolderWatcherOptions, type FolderWatcherEvents, type FolderImportOutcome } from './watcher.js';
export { FileStateStore, FILES_KEY, fingerprintOf, sameFingerprint, jsonFileStates, redisFileStates, type FileState, type FileStateBackend, type FileOutcome, type Fingerprint } from './state.js';

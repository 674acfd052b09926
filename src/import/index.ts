/** `ferry import`: image tarballs -> the mirror (docs/import.md). Public face only; the role starts in role.ts. */
export { importFile, detectFormat, redisLayerCache, LAYER_CACHE_KEY, type ImportDeps, type ImportOptions, type ImportResult, type ImportedImage } from './importer.js';
export { ImportWatcher, type ImportWatcherOptions, type ImportWatcherEvents } from './watcher.js';
export { FILES_KEY, type FileState } from './state.js';
export { IMPORT_ERRORS, importCode, type ImportErrorKind } from './errors.js';
export { DERIVED_DOMAIN, fileRecordRef, sanitizedBaseName } from './naming.js';
export { openArchive, type Archive } from './archive.js';
export type { MirrorClient, BlobEvent } from './push.js';
export { runImportOnce, startImport, type ImportRole } from './role.js';

/** `ferry import`: image tarballs -> the mirror (docs/import.md). Public face only; the role starts in role.ts. */
export { importFile, redisLayerCache, LAYER_CACHE_KEY, type ImportDeps, type ImportOptions, type ImportResult, type ImportedImage } from './importer.js';
export { ImportWatcher, type ImportWatcherOptions, type ImportWatcherEvents } from './import-watcher.js';
export { FILES_KEY, type FileState } from '../folder-watch/index.js';
export type { MirrorClient, BlobEvent } from './push.js';
export { runImportOnce, startImport, type ImportRole } from './role.js';
// Reading archives lives in src/archive (the agent reads them too); these are ferry import's face of it.
export { IMPORT_ERRORS, importCode, detectFormat, DERIVED_DOMAIN, fileRecordRef, sanitizedBaseName, openArchive, planDocker, planOci, MT_DOCKER_LAYER_TAR, MT_DOCKER_LAYER_GZIP, MT_OCI_INDEX, MT_OCI_MANIFEST, MT_DOCKER_LIST } from '../archive/index.js';
export type { ImportErrorKind, Archive, Plan, PlannedImage, BlobSpec, ManifestSpec, PushedBlob, ArchiveFormat } from '../archive/index.js';

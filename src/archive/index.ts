/**
 * Reading image archives on disk (docker-archive, OCI archive; plain, gzip or
 * zstd), never whole and never trusting their tar entries: what `ferry
 * import` pushes to the mirror and `ferry agent` writes into a node's
 * containerd. Its errors are the IMPORT area's. Public face only.
 */
export { openArchive, readRange, zstdWindowSize, ZSTD_WINDOW_MAX, META_MAX, META_TOTAL_MAX, type Archive, type BodyHandler, type Compression } from './archive.js';
export { detectFormat } from './detect.js';
export { planDocker, MT_DOCKER_MANIFEST, MT_DOCKER_CONFIG, MT_DOCKER_LAYER_TAR, MT_DOCKER_LAYER_GZIP } from './docker.js';
export { planOci, MT_OCI_INDEX, MT_OCI_MANIFEST, MT_DOCKER_LIST } from './oci.js';
export { isRecord, parseJson, sha256, type ArchiveFormat, type BlobSpec, type ManifestSpec, type Plan, type PlannedImage, type PushedBlob } from './plan.js';
export { CONTAINERD_NAME, DERIVED_DOMAIN, REF_NAME, derivedRepository, dockerNames, fileRecordRef, hasOciName, ociName, sanitizedBaseName, tryNormalize, type ImageName } from './naming.js';
export { ArchiveIndex, safeEntryName, resolveLinkTarget, type EntryType, type TarEntry } from './tar.js';
export { IMPORT_ERROR_TABLE, IMPORT_ERRORS, asImportFailure, importCode, importError, isImportError, type ImportErrorKind } from './errors.js';

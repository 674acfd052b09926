/**
 * Registry copy engine: public API (see copy.ts for the copy algorithm,
 * blob-transfer.ts for skip/mount/stream of one blob, manifest.ts for the
 * index platform-filtering decision, transport/ for one request (ping,
 * basic, bearer, retries), ref.ts for the engine's view of a reference,
 * errors.ts for the error table).
 */
export { RegistryEngine, nextLink } from './engine.js';
export type { RegistryEngineOptions, CopyOptions, CopyProgress, CopyResult, ManifestInfo, CopyReferrersOptions, CopyReferrersResult, FoundReferrer, ReferrerVia } from './engine.js';
export { REGISTRY_ERRORS, REGISTRY_ERROR_CODES, codeOf, classifyHttp, classifyThrown, parseRetryAfter, registryError } from './errors.js';
export type { RegistryErrorKind } from './errors.js';
export { MT, MANIFEST_ACCEPT, filterIndex, platformMatches, platformString, sha256Digest } from './manifest.js';
export type { Descriptor, Platform } from './manifest.js';
export { splitRef, splitRepository, formatRef } from './ref.js';
export type { RegistryRef } from './ref.js';
export { endpointFor, isLoopbackHost } from './transport/index.js';
export { classifyAddress, outboundProblem, type AddressKind } from './outbound.js';
export { digestProblem, repositoryProblem, tagProblem } from './paths.js';
export type { Logger } from './logger.js';
export { parseChallenges, mergeScopes } from './auth.js';
export { TokenBucket, limiterFor } from './limiter.js';
export { forgetHostGate } from './host-gates.js';
export { choosePlatformMode, refusesSparseIndex, SparseIndexSupport, type AppliedPlatformMode, type PlatformModeChoice } from './sparse-index.js';
export { withOnlyCredentials, CredentialStore, type Credentials } from './credentials.js';
/** The `ferry_registry_*` gauges of the upstream gates: loaded by the roles serving /metrics, never by `ferry copy` (no prom-client there). */
export const loadHostGateMetrics = (): Promise<unknown> => import('./host-gate-metrics.js');

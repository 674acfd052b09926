/**
 * What the worker needs from the copy engine (src/registry, RegistryEngine):
 * `copy`, and `updateConfig` / `close` when it has them. A structural type
 * picked from RegistryEngine, so the processor takes any engine with that
 * shape — the real one in production, a fake in unit tests.
 */
import type { CopyOptions, CopyProgress, CopyResult, RegistryEngine } from '../registry/index.js';

export type { CopyProgress, CopyResult };

/** What the worker passes to `copy`. */
export type CopyRequest = CopyOptions;

/** `copyReferrers` optional: an engine without it (unit-test fakes) copies images only. */
export type CopyEngine = Pick<RegistryEngine, 'copy'> & Partial<Pick<RegistryEngine, 'copyReferrers'>>;

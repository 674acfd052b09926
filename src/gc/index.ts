/** Garbage collection of mirrored images no pod uses (SPEC "Cluster awareness"). Public face only. */
export { gcReportKey, type GcItem, type GcReport } from './types.js';
export { gcKeys } from './keys.js';
export { planGc, digestUseReason, mirrorRepositoryOf, type GcDeletion, type GcPlan, type GcPlanInput } from './plan.js';
export { runGc, type GcDeps, type GcEngine } from './run.js';
export { forgetSuperseded, noteSuperseded, readSuperseded, type SupersededDigest } from './superseded.js';

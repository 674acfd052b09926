export * from './annotations.js';
export { blockRuleFor, compilePolicy, decide, describeUse, effectiveMode, effectivePullPolicy, originalImagesKey } from './admission.js';
export type { CompiledPolicy, DigestAliasLookup, EnqueueIntent, ImageDecision, ImageList, ImageUse, NamespaceMeta, PodDecision, PodInput, Requester } from './admission.js';
export { validatePod } from './validate.js';
export { compileGlobs, compileBlock, type CompiledBlock } from './matchers.js';
export { mirrorOps, type MirrorOps, type ParsedImage, type UpstreamImage } from './mirror-ops.js';
export { hostTenancy, sharingFor, type HostTenancy, type Sharing } from './tenancy.js';

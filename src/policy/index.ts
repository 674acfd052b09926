export * from './annotations.js';
export { blockRuleFor, compilePolicy, decide, effectiveMode, effectivePullPolicy } from './decide.js';
export type { CompiledPolicy, ContainerDecision, ContainerInput, ContainerList, EnqueueIntent, NamespaceAnnotations, PodDecision, PodInput } from './decide.js';
export { compileGlobs, compileBlock, type CompiledBlock } from './matchers.js';
export { mirrorOps, type MirrorOps, type ParsedImage, type UpstreamImage } from './mirror-ops.js';

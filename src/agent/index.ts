/** `ferry agent`: images onto nodes (docs/agent.md). Public face only; the role starts in role.ts. */
export { startAgent, type AgentOptions, type AgentRole } from './role.js';
export { planPulls, selectorMatches, type PlannedPull, type PullPlan, type SkippedPull } from './plan.js';
export { Prepuller, digestFor, type PrepullerEvents, type PrepullerOptions } from './prepuller.js';
export { NodeImports, stateFileOf, type AgentImportResult, type NodeImageImporter, type NodeImportedImage } from './imports.js';
export { NodeStatePublisher } from './publisher.js';
export { nodeObjectClient, taintRemovalPatch, type NodeObjectClient } from './node-object.js';
export { AGENT_ERROR_TABLE, AGENT_ERROR_CODES } from './errors.js';
export { ferryVersion } from './version.js';
